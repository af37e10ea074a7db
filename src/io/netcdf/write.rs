//! The CF-1.8 forecast writer.
//!
//! The file is meant to be read by people's existing tools (xarray, CDO, Panoply, ncview)
//! and to pass the CF checker, so it follows CF's forecast conventions literally:
//! `time` is the valid time (mid-period, with `time_bnds` spanning the averaging period and
//! `cell_methods = "time: mean"`), `forecast_reference_time` is a scalar coordinate, and
//! `forecast_period` (days from the reference time) plus an integer `lead` (months or
//! years) are auxiliary coordinates along `time`. Coordinates carry no fill value.
//! The grid is written in sstcast's canonical orientation (north to south, -180..180);
//! cells outside every forecast region hold the fill value.
//!
//! The file is created as NetCDF-4 with deflate, under a temporary name, and renamed into
//! place only after it was closed successfully.
//!
//! The hindcast writer ([`super::write_hindcast`]) builds on the same pieces: [`create`]
//! (dimensions, global attributes, lat/lon with bounds), [`Times`] (valid times, bounds,
//! reference times, forecast periods), [`put_field`] (a float32 field with its fill value)
//! and [`write_atomically`].

use std::path::Path;

use super::NetcdfError;
use crate::grid::LatLon;
use crate::io::atomic::TempFile;
use crate::time::{Calendar, Frequency, Period, TimeAxis};

/// Fill value of the forecast variable (the usual CMIP choice).
pub const FILL: f32 = 1.0e20;

/// Time units of every file sstcast writes.
const TIME_UNITS: &str = "days since 1800-01-01 00:00:00";

/// What goes into one forecast file.
#[derive(Debug, Clone)]
pub struct ForecastFile<'a> {
    /// Horizontal grid (canonical).
    pub grid: &'a LatLon,
    /// Monthly or annual steps.
    pub freq: Frequency,
    /// First forecast period (lead 1); the reference time is its start.
    pub first: Period,
    /// `[lead][lat][lon]`, degC, NaN = no forecast there.
    pub values: &'a [f32],
    /// Global `title`.
    pub title: String,
    /// Global `source` (sstcast version, model).
    pub source: String,
    /// Global `history` line.
    pub history: String,
    /// Global `comment`.
    pub comment: String,
    /// The pipeline configuration, verbatim, for provenance.
    pub config: String,
    /// Input files, for provenance.
    pub inputs: String,
    /// The named boxes fitted, comma-separated (global `sstcast_boxes`).
    pub boxes: String,
    /// Regions whose forecast is the untrained baseline (no ensemble member kept trained
    /// weights), comma-separated (global `sstcast_baseline_regions`).
    pub baseline_regions: String,
}

/// Writes `f` to `path` atomically.
pub fn write_forecast(path: &Path, f: &ForecastFile) -> Result<(), NetcdfError> {
    write_atomically(path, |tmp| write_to(tmp, f))
}

/// Runs `write` on a temporary sibling of `path` and renames it into place once `write`
/// returned (the file closed); errors name the final path.
pub(super) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), netcdf::Error>,
) -> Result<(), NetcdfError> {
    let tmp = TempFile::new(path);
    let err = |message: String| NetcdfError::Write {
        path: path.to_path_buf(),
        message,
    };
    write(tmp.path()).map_err(|e| err(e.to_string()))?;
    tmp.commit().map_err(|e| err(e.to_string()))
}

/// The time axis of every file sstcast writes ([`TIME_UNITS`], standard calendar).
fn time_axis() -> TimeAxis {
    TimeAxis::parse(TIME_UNITS, Calendar::Standard).expect("constant units parse")
}

/// Start and end of period `p`, in [`TIME_UNITS`].
fn period_bounds(axis: &TimeAxis, freq: Frequency, p: Period) -> (f64, f64) {
    let start_of = |p: Period| {
        let (y, m) = p.year_month(freq);
        axis.offset_of(y, m, 1)
    };
    (start_of(p), start_of(Period(p.0 + 1)))
}

/// Reference times, and valid times (mid-period), their bounds and forecast periods of one
/// or more forecasts, in [`TIME_UNITS`]; `valid`, `period`: `[forecast][lead]`, `bounds`:
/// `[forecast][lead][2]`.
#[derive(Debug, Default)]
pub(super) struct Times {
    pub reference: Vec<f64>,
    pub valid: Vec<f64>,
    pub bounds: Vec<f64>,
    pub period: Vec<f64>,
}

impl Times {
    /// Appends the forecast whose lead 1 is `first`, with `leads` leads.
    pub(super) fn push(&mut self, freq: Frequency, first: Period, leads: usize) {
        let axis = time_axis();
        let reference = period_bounds(&axis, freq, first).0;
        self.reference.push(reference);
        for k in 0..leads {
            let (a, b) = period_bounds(&axis, freq, Period(first.0 + k as i64));
            let mid = 0.5 * (a + b);
            self.valid.push(mid);
            self.bounds.extend([a, b]);
            self.period.push(mid - reference);
        }
    }

    /// Writes `time` (with `time_bnds`) over `dims`; it is the axis T only when it is a
    /// coordinate variable (one dimension).
    pub(super) fn put_valid(
        &self,
        file: &mut netcdf::FileMut,
        dims: &[&str],
    ) -> Result<(), netcdf::Error> {
        let mut v = file.add_variable::<f64>("time", dims)?;
        v.put_attribute("standard_name", "time")?;
        v.put_attribute("long_name", "valid time (middle of the averaging period)")?;
        v.put_attribute("units", TIME_UNITS)?;
        v.put_attribute("calendar", "standard")?;
        if dims.len() == 1 {
            v.put_attribute("axis", "T")?;
        }
        v.put_attribute("bounds", "time_bnds")?;
        v.put_values(&self.valid, ..)?;
        let bnds_dims: Vec<&str> = dims.iter().copied().chain(["bnds"]).collect();
        let mut v = file.add_variable::<f64>("time_bnds", &bnds_dims)?;
        v.put_values(&self.bounds, ..)
    }

    /// Writes `forecast_reference_time` over `reference_dims` (none: a scalar) and
    /// `forecast_period` over `dims`.
    pub(super) fn put_reference(
        &self,
        file: &mut netcdf::FileMut,
        dims: &[&str],
        reference_dims: &[&str],
    ) -> Result<(), netcdf::Error> {
        let mut v = file.add_variable::<f64>("forecast_reference_time", reference_dims)?;
        v.put_attribute("standard_name", "forecast_reference_time")?;
        v.put_attribute(
            "long_name",
            "forecast reference time (start of the forecast; no data at or after it was used)",
        )?;
        v.put_attribute("units", TIME_UNITS)?;
        v.put_attribute("calendar", "standard")?;
        if reference_dims.is_empty() {
            v.put_value(self.reference[0], ..)?;
        } else {
            v.put_values(&self.reference, ..)?;
        }
        let mut v = file.add_variable::<f64>("forecast_period", dims)?;
        v.put_attribute("standard_name", "forecast_period")?;
        v.put_attribute(
            "long_name",
            "time from forecast reference time to valid time",
        )?;
        v.put_attribute("units", "days")?;
        v.put_values(&self.period, ..)
    }
}

/// The global attributes shared by the forecast and hindcast files.
pub(super) struct Globals<'s> {
    pub title: &'s str,
    pub source: &'s str,
    pub history: &'s str,
    pub comment: &'s str,
    pub references: &'s str,
    pub inputs: &'s str,
    pub config: &'s str,
    pub freq: Frequency,
}

/// Creates a NetCDF-4 file with dimensions `dims` (plus `lat`, `lon` and `bnds`) and the
/// global attributes; the coordinates follow ([`Times`], [`put_grid`]).
pub(super) fn create(
    path: &Path,
    dims: &[(&str, usize)],
    grid: &LatLon,
    g: &Globals,
) -> Result<netcdf::FileMut, netcdf::Error> {
    let mut file = netcdf::create_with(path, netcdf::Options::NETCDF4)?;
    for &(name, len) in dims {
        file.add_dimension(name, len)?;
    }
    file.add_dimension("lat", grid.nlat())?;
    file.add_dimension("lon", grid.nlon())?;
    file.add_dimension("bnds", 2)?;
    for (k, v) in [
        ("Conventions", "CF-1.8"),
        ("title", g.title),
        ("institution", "sstcast"),
        ("source", g.source),
        ("history", g.history),
        ("comment", g.comment),
        ("references", g.references),
        ("sstcast_inputs", g.inputs),
        ("sstcast_config", g.config),
        ("sstcast_frequency", freq_name(g.freq)),
    ] {
        file.add_attribute(k, v)?;
    }
    Ok(file)
}

/// The latitude and longitude coordinates with their bounds.
pub(super) fn put_grid(file: &mut netcdf::FileMut, grid: &LatLon) -> Result<(), netcdf::Error> {
    let (lat_b, lon_b) = (edges(&grid.lat), edges(&grid.lon));
    for (name, axis, values, bounds) in [
        ("lat", "Y", &grid.lat, &lat_b),
        ("lon", "X", &grid.lon, &lon_b),
    ] {
        let long = if name == "lat" {
            "latitude"
        } else {
            "longitude"
        };
        let mut v = file.add_variable::<f64>(name, &[name])?;
        v.put_attribute("standard_name", long)?;
        v.put_attribute("long_name", long)?;
        v.put_attribute(
            "units",
            if name == "lat" {
                "degrees_north"
            } else {
                "degrees_east"
            },
        )?;
        v.put_attribute("axis", axis)?;
        v.put_attribute("bounds", format!("{name}_bnds"))?;
        v.put_values(values, ..)?;
        let mut v = file.add_variable::<f64>(&format!("{name}_bnds"), &[name, "bnds"])?;
        v.put_values(bounds, ..)?;
    }
    Ok(())
}

/// `monthly` or `annual` (the `sstcast_frequency` attribute).
fn freq_name(freq: Frequency) -> &'static str {
    match freq {
        Frequency::Monthly => "monthly",
        Frequency::Annual => "annual",
    }
}

/// The `long_name` of the integer `lead` coordinate.
pub(super) fn lead_long_name(freq: Frequency) -> &'static str {
    match freq {
        Frequency::Monthly => "forecast lead in months (1 = first month after the reference time)",
        Frequency::Annual => "forecast lead in years (1 = first year after the reference time)",
    }
}

/// The `cell_methods` of a field of monthly or annual means.
pub(super) fn time_mean(freq: Frequency) -> &'static str {
    match freq {
        Frequency::Monthly => "time: mean (interval: 1 month)",
        Frequency::Annual => "time: mean (interval: 1 year)",
    }
}

/// Adds a float32 field over `dims` with [`FILL`] for NaN, deflate, and one horizontal
/// field per chunk; the caller adds its attributes (`units` among them).
pub(super) fn put_field<'f>(
    file: &'f mut netcdf::FileMut,
    name: &str,
    dims: &[&str],
    values: &[f32],
) -> Result<netcdf::VariableMut<'f>, netcdf::Error> {
    let mut v = file.add_variable::<f32>(name, dims)?;
    v.set_compression(4, true)?;
    let mut chunk = vec![1; dims.len()];
    for (c, d) in chunk.iter_mut().zip(dims).rev().take(2) {
        *c = v
            .dimensions()
            .iter()
            .find(|x| x.name() == *d)
            .map_or(1, |x| x.len());
    }
    v.set_chunking(&chunk)?;
    v.set_fill_value(FILL)?;
    v.put_attribute("missing_value", FILL)?;
    let data: Vec<f32> = values
        .iter()
        .map(|&x| if x.is_finite() { x } else { FILL })
        .collect();
    v.put_values(&data, ..)?;
    Ok(v)
}

fn write_to(path: &Path, f: &ForecastFile) -> Result<(), netcdf::Error> {
    let nt = f.values.len() / f.grid.ncells().max(1);
    let mut times = Times::default();
    times.push(f.freq, f.first, nt);
    let lead: Vec<i32> = (1..=nt as i32).collect();

    let globals = Globals {
        title: &f.title,
        source: &f.source,
        history: &f.history,
        comment: &f.comment,
        references: "https://doi.org/10.7289/V5T72FNM (ERSST v5 input, when used)",
        inputs: &f.inputs,
        config: &f.config,
        freq: f.freq,
    };
    let mut file = create(path, &[("time", nt)], f.grid, &globals)?;
    file.add_attribute("sstcast_boxes", f.boxes.as_str())?;
    file.add_attribute("sstcast_baseline_regions", f.baseline_regions.as_str())?;
    times.put_valid(&mut file, &["time"])?;
    put_grid(&mut file, f.grid)?;
    times.put_reference(&mut file, &["time"], &[])?;
    let mut v = file.add_variable::<i32>("lead", &["time"])?;
    v.put_attribute("long_name", lead_long_name(f.freq))?;
    v.put_attribute("units", "1")?;
    v.put_values(&lead, ..)?;

    let mut v = put_field(&mut file, "sst", &["time", "lat", "lon"], f.values)?;
    v.put_attribute("standard_name", "sea_surface_temperature")?;
    v.put_attribute("long_name", "forecast sea surface temperature")?;
    v.put_attribute("units", "degC")?;
    v.put_attribute("cell_methods", time_mean(f.freq))?;
    v.put_attribute(
        "coordinates",
        "forecast_reference_time forecast_period lead",
    )?;
    file.close()
}

/// A forecast file read back (for verifying it later, when observations have arrived).
#[derive(Debug, Clone)]
pub struct StoredForecast {
    /// Grid (canonical, as written).
    pub grid: LatLon,
    /// Step frequency.
    pub freq: Frequency,
    /// Period of lead 1.
    pub first: Period,
    /// `[lead][cell]`, NaN where no forecast.
    pub values: Vec<f32>,
}

/// Reads a file written by [`write_forecast`].
pub fn read_forecast(path: &Path) -> Result<StoredForecast, NetcdfError> {
    let err = |what: &str, message: String| NetcdfError::Read {
        path: path.to_path_buf(),
        what: what.to_string(),
        message,
    };
    let file = super::read::open(path)?;
    let get = |name: &str| -> Result<Vec<f64>, NetcdfError> {
        file.variable(name)
            .ok_or_else(|| {
                err(
                    name,
                    "no such variable (not an sstcast forecast file?)".into(),
                )
            })?
            .get_values::<f64, _>(..)
            .map_err(|e| err(name, e.to_string()))
    };
    let freq = match file
        .attribute("sstcast_frequency")
        .and_then(|a| a.value().ok())
    {
        Some(netcdf::AttributeValue::Str(s)) if s == "annual" => Frequency::Annual,
        Some(netcdf::AttributeValue::Str(s)) if s == "monthly" => Frequency::Monthly,
        _ => {
            return Err(err(
                "sstcast_frequency",
                "missing: not an sstcast forecast file".into(),
            ))
        }
    };
    let axis = time_axis();
    let bnds = get("time_bnds")?;
    let d = axis
        .date(
            *bnds
                .first()
                .ok_or_else(|| err("time_bnds", "empty".into()))?,
        )
        .map_err(|e| err("time_bnds", e.to_string()))?;
    let first = match freq {
        Frequency::Monthly => Period::month(d.year, d.month),
        Frequency::Annual => Period(d.year),
    };
    let grid = LatLon {
        lat: get("lat")?,
        lon: get("lon")?,
    };
    let values = get("sst")?
        .into_iter()
        .map(|v| {
            if v.is_finite() && (v as f32) < FILL {
                v as f32
            } else {
                f32::NAN
            }
        })
        .collect();
    Ok(StoredForecast {
        grid,
        freq,
        first,
        values,
    })
}

/// Cell edges `[n][2]` halfway between centres, clamped to +-90 for latitude-like ranges.
fn edges(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let lo = if i > 0 {
            0.5 * (c[i - 1] + c[i])
        } else if n > 1 {
            c[0] - 0.5 * (c[1] - c[0])
        } else {
            c[0]
        };
        let hi = if i + 1 < n {
            0.5 * (c[i] + c[i + 1])
        } else if n > 1 {
            c[i] + 0.5 * (c[i] - c[i - 1])
        } else {
            c[0]
        };
        out.extend([lo, hi]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::netcdf::read_cube;

    #[test]
    fn roundtrip_through_the_reader() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("f.nc");
        let grid = LatLon {
            lat: vec![10.0, -10.0],
            lon: vec![-90.0, 0.0, 90.0],
        };
        let values: Vec<f32> = (0..12 * 6)
            .map(|i| if i % 6 == 4 { f32::NAN } else { i as f32 * 0.5 })
            .collect();
        let f = ForecastFile {
            grid: &grid,
            freq: Frequency::Monthly,
            first: Period::month(2018, 1),
            values: &values,
            title: "t".into(),
            source: "s".into(),
            history: "h".into(),
            comment: "c".into(),
            config: "model: {}".into(),
            inputs: "x.nc".into(),
            boxes: String::new(),
            baseline_regions: String::new(),
        };
        write_forecast(&path, &f).unwrap();
        let file = netcdf::open(&path).unwrap();
        let boxes = file.attribute("sstcast_boxes").unwrap().value().unwrap();
        assert_eq!(boxes, netcdf::AttributeValue::Str(String::new()));
        drop(file);
        // Only the final file remains.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        let c = read_cube(std::slice::from_ref(&path), None).unwrap();
        assert_eq!(c.start, Period::month(2018, 1));
        assert_eq!(c.len(), 12);
        assert_eq!(c.grid, grid);
        assert!(c.step(0)[4].is_nan());
        assert_eq!(c.step(11)[5], (11 * 6 + 5) as f32 * 0.5);
        let file = netcdf::open(&path).unwrap();
        let frt: f64 = file
            .variable("forecast_reference_time")
            .unwrap()
            .get_value(..)
            .unwrap();
        assert_eq!(frt, 79_623.0); // 2018-01-01 in days since 1800-01-01
        let fp: Vec<f64> = file
            .variable("forecast_period")
            .unwrap()
            .get_values(..)
            .unwrap();
        assert_eq!(fp[0], 15.5);
        assert!(file
            .variable("lat")
            .unwrap()
            .attribute("_FillValue")
            .is_none());
    }

    #[test]
    fn edges_are_halfway() {
        assert_eq!(edges(&[88.0, 86.0]), vec![89.0, 87.0, 87.0, 85.0]);
    }
}
