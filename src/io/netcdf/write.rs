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
}

/// Writes `f` to `path` atomically.
pub fn write_forecast(path: &Path, f: &ForecastFile) -> Result<(), NetcdfError> {
    let tmp = TempFile::new(path);
    let err = |message: String| NetcdfError::Write {
        path: path.to_path_buf(),
        message,
    };
    write_to(tmp.path(), f).map_err(|e| err(e.to_string()))?;
    tmp.commit().map_err(|e| err(e.to_string()))
}

fn write_to(path: &Path, f: &ForecastFile) -> Result<(), netcdf::Error> {
    let (nlat, nlon) = (f.grid.nlat(), f.grid.nlon());
    let nt = f.values.len() / (nlat * nlon).max(1);
    let axis = TimeAxis::parse(TIME_UNITS, Calendar::Standard).expect("constant units parse");
    let start_of = |p: Period| {
        let (y, m) = p.year_month(f.freq);
        axis.offset_of(y, m, 1)
    };
    let reference = start_of(f.first);
    let mut time = Vec::with_capacity(nt);
    let mut bnds = Vec::with_capacity(2 * nt);
    for k in 0..nt {
        let a = start_of(Period(f.first.0 + k as i64));
        let b = start_of(Period(f.first.0 + k as i64 + 1));
        time.push(0.5 * (a + b));
        bnds.extend([a, b]);
    }
    let period: Vec<f64> = time.iter().map(|t| t - reference).collect();
    let lead: Vec<i32> = (1..=nt as i32).collect();

    let mut file = netcdf::create_with(path, netcdf::Options::NETCDF4)?;
    file.add_dimension("time", nt)?;
    file.add_dimension("lat", nlat)?;
    file.add_dimension("lon", nlon)?;
    file.add_dimension("bnds", 2)?;

    let g = |k: &str, v: &str, file: &mut netcdf::FileMut| -> Result<(), netcdf::Error> {
        file.add_attribute(k, v).map(|_| ())
    };
    g("Conventions", "CF-1.8", &mut file)?;
    g("title", &f.title, &mut file)?;
    g("institution", "sstcast", &mut file)?;
    g("source", &f.source, &mut file)?;
    g("history", &f.history, &mut file)?;
    g("comment", &f.comment, &mut file)?;
    g(
        "references",
        "https://doi.org/10.7289/V5T72FNM (ERSST v5 input, when used)",
        &mut file,
    )?;
    g("sstcast_inputs", &f.inputs, &mut file)?;
    g("sstcast_config", &f.config, &mut file)?;
    g(
        "sstcast_frequency",
        match f.freq {
            Frequency::Monthly => "monthly",
            Frequency::Annual => "annual",
        },
        &mut file,
    )?;

    let mut v = file.add_variable::<f64>("time", &["time"])?;
    v.put_attribute("standard_name", "time")?;
    v.put_attribute("long_name", "valid time (middle of the averaging period)")?;
    v.put_attribute("units", TIME_UNITS)?;
    v.put_attribute("calendar", "standard")?;
    v.put_attribute("axis", "T")?;
    v.put_attribute("bounds", "time_bnds")?;
    v.put_values(&time, ..)?;
    let mut v = file.add_variable::<f64>("time_bnds", &["time", "bnds"])?;
    v.put_values(&bnds, ..)?;

    let (lat_b, lon_b) = (edges(&f.grid.lat), edges(&f.grid.lon));
    let mut v = file.add_variable::<f64>("lat", &["lat"])?;
    v.put_attribute("standard_name", "latitude")?;
    v.put_attribute("long_name", "latitude")?;
    v.put_attribute("units", "degrees_north")?;
    v.put_attribute("axis", "Y")?;
    v.put_attribute("bounds", "lat_bnds")?;
    v.put_values(&f.grid.lat, ..)?;
    let mut v = file.add_variable::<f64>("lat_bnds", &["lat", "bnds"])?;
    v.put_values(&lat_b, ..)?;
    let mut v = file.add_variable::<f64>("lon", &["lon"])?;
    v.put_attribute("standard_name", "longitude")?;
    v.put_attribute("long_name", "longitude")?;
    v.put_attribute("units", "degrees_east")?;
    v.put_attribute("axis", "X")?;
    v.put_attribute("bounds", "lon_bnds")?;
    v.put_values(&f.grid.lon, ..)?;
    let mut v = file.add_variable::<f64>("lon_bnds", &["lon", "bnds"])?;
    v.put_values(&lon_b, ..)?;

    let mut v = file.add_variable::<f64>("forecast_reference_time", &[])?;
    v.put_attribute("standard_name", "forecast_reference_time")?;
    v.put_attribute(
        "long_name",
        "forecast reference time (start of the forecast; no data at or after it was used)",
    )?;
    v.put_attribute("units", TIME_UNITS)?;
    v.put_attribute("calendar", "standard")?;
    v.put_value(reference, ..)?;
    let mut v = file.add_variable::<f64>("forecast_period", &["time"])?;
    v.put_attribute("standard_name", "forecast_period")?;
    v.put_attribute(
        "long_name",
        "time from forecast reference time to valid time",
    )?;
    v.put_attribute("units", "days")?;
    v.put_values(&period, ..)?;
    let mut v = file.add_variable::<i32>("lead", &["time"])?;
    v.put_attribute(
        "long_name",
        match f.freq {
            Frequency::Monthly => {
                "forecast lead in months (1 = first month after the reference time)"
            }
            Frequency::Annual => "forecast lead in years (1 = first year after the reference time)",
        },
    )?;
    v.put_attribute("units", "1")?;
    v.put_values(&lead, ..)?;

    let mut v = file.add_variable::<f32>("sst", &["time", "lat", "lon"])?;
    v.set_compression(4, true)?;
    v.set_chunking(&[1, nlat, nlon])?;
    v.set_fill_value(FILL)?;
    v.put_attribute("missing_value", FILL)?;
    v.put_attribute("standard_name", "sea_surface_temperature")?;
    v.put_attribute("long_name", "forecast sea surface temperature")?;
    v.put_attribute("units", "degC")?;
    v.put_attribute(
        "cell_methods",
        match f.freq {
            Frequency::Monthly => "time: mean (interval: 1 month)",
            Frequency::Annual => "time: mean (interval: 1 year)",
        },
    )?;
    v.put_attribute(
        "coordinates",
        "forecast_reference_time forecast_period lead",
    )?;
    let data: Vec<f32> = f
        .values
        .iter()
        .map(|&x| if x.is_finite() { x } else { FILL })
        .collect();
    v.put_values(&data, ..)?;
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
    let axis = TimeAxis::parse(TIME_UNITS, Calendar::Standard).expect("constant units parse");
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
        };
        write_forecast(&path, &f).unwrap();
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
