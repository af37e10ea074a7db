//! The CF-1.8 hindcast writer: many forecasts, one per start, in one file.
//!
//! A hindcast is a set of forecasts made from many starts (every month from 2000-01, say),
//! each for leads 1..horizon. The layout follows seasonal-forecast archives (NMME's start
//! and lead axes, the valid time over both as in C3S's files): `sst(start, lead, lat, lon)`
//! with
//! - `forecast_reference_time(start)`: the start of each forecast (no data at or after it was
//!   used), an auxiliary coordinate along `start`;
//! - `lead(lead)`: the integer lead in months or years, the coordinate variable of `lead`;
//! - `time(start, lead)`: the valid time, the middle of the target period like the forecast
//!   file's `time`, with `time_bnds(start, lead, bnds)` spanning the averaging period;
//! - `forecast_period(start, lead)`: days from the reference time to the valid time. It is
//!   two-dimensional, not `forecast_period(lead)`, because months and years differ in
//!   length: lead 1 of a February start is 14 days after the reference time, of a January
//!   start 15.5. One value per lead would be wrong for most starts, and CF's time units
//!   have no calendar month.
//!
//! `sst_spread` holds the ensemble standard deviation (the spread of the member forecasts
//! about `sst`, their mean) on the same axes. Everything else (fill value, grid, global
//! attributes, atomic write) is the forecast writer's ([`super::write`]).

use std::path::Path;

use super::write::{
    create, lead_long_name, put_field, put_grid, time_mean, write_atomically, Globals, Times,
};
use super::NetcdfError;
use crate::grid::LatLon;
use crate::time::{Frequency, Period};

/// What goes into one hindcast file.
#[derive(Debug, Clone)]
pub struct HindcastFile<'a> {
    /// Horizontal grid (canonical).
    pub grid: &'a LatLon,
    /// Monthly or annual steps.
    pub freq: Frequency,
    /// For each start, the period of its lead 1 (its reference time is that period's
    /// start), strictly ascending.
    pub starts: &'a [Period],
    /// Leads per start.
    pub horizon: usize,
    /// `[start][lead][lat][lon]`, degC, NaN = no forecast there.
    pub values: &'a [f32],
    /// Ensemble standard deviation, same layout, degC (NaN where none).
    pub spread: &'a [f32],
    /// Whether the values are anomalies (Kaplan's `sst_anom`): then `sst` carries no
    /// `standard_name` (CF has none for SST anomalies) and its `long_name` says so.
    pub anomaly: bool,
    /// Global `title`.
    pub title: String,
    /// Global `source` (sstcast version, model).
    pub source: String,
    /// Global `history` line.
    pub history: String,
    /// Global `comment` (training period, refits, references verified against).
    pub comment: String,
    /// Global `references` (the input product's citation).
    pub references: String,
    /// The pipeline configuration, verbatim, for provenance.
    pub config: String,
    /// Input files, for provenance.
    pub inputs: String,
    /// The named boxes fitted, comma-separated (global `sstcast_boxes`, as in a forecast).
    pub boxes: String,
}

/// Writes `f` to `path` atomically (a temporary sibling renamed into place once closed).
/// A `values` or `spread` length other than starts x horizon x cells, or starts that are
/// not strictly ascending, is a [`NetcdfError::Write`] and leaves no file.
pub fn write_hindcast(path: &Path, f: &HindcastFile) -> Result<(), NetcdfError> {
    let n = f.starts.len() * f.horizon * f.grid.ncells();
    let problem = if f.starts.is_empty() || f.horizon == 0 {
        Some("a hindcast needs at least one start and one lead".to_string())
    } else if f.values.len() != n || f.spread.len() != n {
        Some(format!(
            "values ({}) and spread ({}) must each hold starts x leads x cells = {} x {} x {} = {n}",
            f.values.len(),
            f.spread.len(),
            f.starts.len(),
            f.horizon,
            f.grid.ncells()
        ))
    } else if f.starts.windows(2).any(|w| w[1].0 <= w[0].0) {
        Some("starts must be strictly ascending".to_string())
    } else {
        None
    };
    if let Some(message) = problem {
        return Err(NetcdfError::Write {
            path: path.to_path_buf(),
            message,
        });
    }
    write_atomically(path, |tmp| write_to(tmp, f))
}

fn write_to(path: &Path, f: &HindcastFile) -> Result<(), netcdf::Error> {
    let mut times = Times::default();
    for &s in f.starts {
        times.push(f.freq, s, f.horizon);
    }
    let globals = Globals {
        title: &f.title,
        source: &f.source,
        history: &f.history,
        comment: &f.comment,
        references: &f.references,
        inputs: &f.inputs,
        config: &f.config,
        freq: f.freq,
    };
    let dims = [("start", f.starts.len()), ("lead", f.horizon)];
    let mut file = create(path, &dims, f.grid, &globals)?;
    file.add_attribute("sstcast_product", "hindcast")?;
    file.add_attribute("sstcast_boxes", f.boxes.as_str())?;
    times.put_valid(&mut file, &["start", "lead"])?;
    put_grid(&mut file, f.grid)?;
    times.put_reference(&mut file, &["start", "lead"], &["start"])?;
    let lead: Vec<i32> = (1..=f.horizon as i32).collect();
    let mut v = file.add_variable::<i32>("lead", &["lead"])?;
    v.put_attribute("long_name", lead_long_name(f.freq))?;
    v.put_attribute("units", "1")?;
    v.put_values(&lead, ..)?;

    let dims = ["start", "lead", "lat", "lon"];
    let coordinates = "forecast_reference_time forecast_period time";
    let what = if f.anomaly {
        "sea surface temperature anomaly"
    } else {
        "sea surface temperature"
    };
    let mut v = put_field(&mut file, "sst", &dims, f.values)?;
    if !f.anomaly {
        v.put_attribute("standard_name", "sea_surface_temperature")?;
    }
    v.put_attribute("long_name", format!("hindcast {what} (ensemble mean)"))?;
    v.put_attribute("units", "degC")?;
    v.put_attribute("cell_methods", time_mean(f.freq))?;
    v.put_attribute("coordinates", coordinates)?;
    let mut v = put_field(&mut file, "sst_spread", &dims, f.spread)?;
    v.put_attribute(
        "long_name",
        format!(
            "ensemble standard deviation of the hindcast {what} (spread of the members about sst)"
        ),
    )?;
    v.put_attribute("units", "degC")?;
    v.put_attribute("cell_methods", time_mean(f.freq))?;
    v.put_attribute("coordinates", coordinates)?;
    file.close()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> LatLon {
        LatLon {
            lat: vec![10.0, -10.0],
            lon: vec![-90.0, 0.0, 90.0],
        }
    }

    /// A hindcast of `starts` x `horizon` on [`grid`]: value = start * 100 + lead * 10 +
    /// cell, spread = a tenth of it; cell 4 is land (NaN) everywhere.
    fn file<'a>(
        grid: &'a LatLon,
        freq: Frequency,
        starts: &'a [Period],
        horizon: usize,
        values: &'a mut Vec<f32>,
        spread: &'a mut Vec<f32>,
    ) -> HindcastFile<'a> {
        for s in 0..starts.len() {
            for l in 0..horizon {
                for c in 0..6 {
                    let v = if c == 4 {
                        f32::NAN
                    } else {
                        (s * 100 + l * 10 + c) as f32
                    };
                    values.push(v);
                    spread.push(v / 10.0);
                }
            }
        }
        HindcastFile {
            grid,
            freq,
            starts,
            horizon,
            values,
            spread,
            anomaly: false,
            title: "t".into(),
            source: "s".into(),
            history: "h".into(),
            comment: "c".into(),
            references: "r".into(),
            config: "model: {}".into(),
            inputs: "x.nc".into(),
            boxes: "nino34".into(),
        }
    }

    fn get<T: netcdf::NcTypeDescriptor + Copy>(f: &netcdf::File, name: &str) -> Vec<T> {
        f.variable(name).unwrap().get_values::<T, _>(..).unwrap()
    }

    fn attr(v: &netcdf::Variable, name: &str) -> Option<String> {
        match v.attribute_value(name)?.ok()? {
            netcdf::AttributeValue::Str(s) => Some(s),
            other => panic!("{name}: {other:?}"),
        }
    }

    // The CF checker runs on hindcast files in tests/hindcast_netcdf.rs, a process of its
    // own: a checker spawned from here could inherit (and keep locked) the HDF5 file of
    // another unit test running at the same time.

    #[test]
    fn monthly_hindcast_reads_back_with_cf_coordinates() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("hindcast.nc");
        let g = grid();
        // Starts in months other than January, one of them across a year end.
        let starts = [
            Period::month(2000, 2),
            Period::month(2000, 3),
            Period::month(2000, 12),
        ];
        let (mut values, mut spread) = (Vec::new(), Vec::new());
        let f = file(&g, Frequency::Monthly, &starts, 2, &mut values, &mut spread);
        write_hindcast(&path, &f).unwrap();
        // Only the final file remains.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);

        let nc = netcdf::open(&path).unwrap();
        let dims: Vec<_> = nc
            .variable("sst")
            .unwrap()
            .dimensions()
            .iter()
            .map(|d| (d.name(), d.len()))
            .collect();
        let want = [("start", 3), ("lead", 2), ("lat", 2), ("lon", 3)];
        assert_eq!(dims, want.map(|(n, l)| (n.to_string(), l)));
        let sst: Vec<f32> = get(&nc, "sst");
        let sp: Vec<f32> = get(&nc, "sst_spread");
        assert_eq!(sst[2 * 12 + 6 + 5], 215.0); // start 2, lead 2, cell 5
        assert_eq!(sp[2 * 12 + 6 + 5], 21.5);
        assert_eq!(sst[4], super::super::write::FILL);
        assert_eq!(sp[4], super::super::write::FILL);
        // 2000-02-01, 2000-03-01, 2000-12-01 in days since 1800-01-01.
        assert_eq!(
            get::<f64>(&nc, "forecast_reference_time"),
            [73_079.0, 73_108.0, 73_383.0]
        );
        assert_eq!(get::<i32>(&nc, "lead"), [1, 2]);
        // Valid times: the middle of each target month (February 2000 has 29 days).
        let time: Vec<f64> = get(&nc, "time");
        assert_eq!(&time[..2], [73_079.0 + 14.5, 73_108.0 + 15.5]);
        assert_eq!(time[5], 73_414.0 + 15.5); // lead 2 of the December start: January 2001
        let bnds: Vec<f64> = get(&nc, "time_bnds");
        assert_eq!(&bnds[..4], [73_079.0, 73_108.0, 73_108.0, 73_139.0]);
        let fp: Vec<f64> = get(&nc, "forecast_period");
        assert_eq!(&fp[..4], [14.5, 29.0 + 15.5, 15.5, 31.0 + 15.0]);

        let v = nc.variable("sst").unwrap();
        assert_eq!(
            attr(&v, "standard_name").as_deref(),
            Some("sea_surface_temperature")
        );
        assert_eq!(
            attr(&v, "coordinates").as_deref(),
            Some("forecast_reference_time forecast_period time")
        );
        let v = nc.variable("sst_spread").unwrap();
        assert!(attr(&v, "long_name")
            .unwrap()
            .contains("standard deviation"));
        assert!(attr(&v, "standard_name").is_none());
        let global = |k: &str| match nc.attribute(k).unwrap().value().unwrap() {
            netcdf::AttributeValue::Str(s) => s,
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(global("Conventions"), "CF-1.8");
        assert_eq!(global("references"), "r");
        assert_eq!(global("sstcast_config"), "model: {}");
        assert_eq!(global("sstcast_frequency"), "monthly");
        assert_eq!(global("sstcast_product"), "hindcast");
        assert_eq!(global("sstcast_boxes"), "nino34");
        let lat = nc.variable("lat").unwrap();
        assert!(lat.attribute("_FillValue").is_none());
        assert_eq!(get::<f64>(&nc, "lat_bnds"), [20.0, 0.0, 0.0, -20.0]);
    }

    #[test]
    fn annual_anomaly_hindcast_has_yearly_times_and_no_standard_name() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("hindcast.nc");
        let g = grid();
        let starts = [Period(1995), Period(1996)];
        let (mut values, mut spread) = (Vec::new(), Vec::new());
        let mut f = file(&g, Frequency::Annual, &starts, 2, &mut values, &mut spread);
        f.anomaly = true;
        write_hindcast(&path, &f).unwrap();
        let nc = netcdf::open(&path).unwrap();
        assert_eq!(
            get::<f64>(&nc, "forecast_reference_time"),
            [71_222.0, 71_587.0]
        );
        let time: Vec<f64> = get(&nc, "time");
        // 1995 (365 days), 1996 (366), 1996, 1997 (365): the middle of each year.
        assert_eq!(
            time,
            [
                71_222.0 + 182.5,
                71_587.0 + 183.0,
                71_587.0 + 183.0,
                71_953.0 + 182.5
            ]
        );
        let v = nc.variable("sst").unwrap();
        assert!(attr(&v, "standard_name").is_none());
        assert!(attr(&v, "long_name").unwrap().contains("anomaly"));
        assert_eq!(
            attr(&v, "cell_methods").as_deref(),
            Some("time: mean (interval: 1 year)")
        );
    }

    #[test]
    fn inconsistent_sizes_and_order_are_errors_that_leave_no_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("hindcast.nc");
        let g = grid();
        let starts = [Period::month(2000, 1), Period::month(2000, 2)];
        let (mut values, mut spread) = (Vec::new(), Vec::new());
        let f = file(&g, Frequency::Monthly, &starts, 2, &mut values, &mut spread);
        let short = HindcastFile {
            values: &f.values[1..],
            ..f.clone()
        };
        let e = write_hindcast(&path, &short).unwrap_err().to_string();
        assert!(e.contains("starts x leads x cells"), "{e}");
        let backwards = [starts[1], starts[0]];
        let unordered = HindcastFile {
            starts: &backwards,
            ..f.clone()
        };
        let e = write_hindcast(&path, &unordered).unwrap_err().to_string();
        assert!(e.contains("ascending"), "{e}");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
