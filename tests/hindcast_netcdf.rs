//! The hindcast NetCDF writer against the shared CF checker: a monthly hindcast with starts
//! in several calendar months and an annual one of anomalies, each 0 errors (skipped, with a
//! note, where `../shared/tools/cfcheck` is absent, as in `forecast_ersst`).
//!
//! A test binary of its own: the checker is a child process, and a child spawned while
//! another test of the same process has an HDF5 file open inherits that file and its lock.

mod common;

use common::cfcheck;
use sstcast::grid::LatLon;
use sstcast::io::netcdf::{write_hindcast, HindcastFile};
use sstcast::time::{Frequency, Period};

#[test]
fn hindcast_files_pass_the_cf_checker() {
    let d = tempfile::tempdir().unwrap();
    let grid = LatLon {
        lat: vec![15.0, 5.0, -5.0],
        lon: vec![-170.0, -160.0],
    };
    let monthly = [
        Period::month(2000, 1),
        Period::month(2000, 4),
        Period::month(2000, 11),
    ];
    let annual = [Period(1995), Period(1996), Period(1997)];
    for (name, freq, starts, anomaly) in [
        ("monthly.nc", Frequency::Monthly, &monthly, false),
        ("annual.nc", Frequency::Annual, &annual, true),
    ] {
        let horizon = 4;
        let n = starts.len() * horizon * grid.ncells();
        // Cell 1 is land (NaN) throughout.
        let values: Vec<f32> = (0..n)
            .map(|i| {
                if i % 6 == 1 {
                    f32::NAN
                } else {
                    0.01 * i as f32
                }
            })
            .collect();
        let spread: Vec<f32> = values.iter().map(|v| 0.1 * v).collect();
        let f = HindcastFile {
            grid: &grid,
            freq,
            starts,
            horizon,
            values: &values,
            spread: &spread,
            anomaly,
            title: "sstcast hindcast (test)".into(),
            source: "sstcast test".into(),
            history: "written by tests/hindcast_netcdf.rs".into(),
            comment: "fixture".into(),
            references: "none".into(),
            config: "name: test".into(),
            inputs: "none".into(),
            boxes: String::new(),
        };
        let path = d.path().join(name);
        write_hindcast(&path, &f).unwrap();
        let Some(cf) = cfcheck() else {
            eprintln!("cfcheck not found: CF check skipped");
            return;
        };
        let o = std::process::Command::new(cf).arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains("ERRORS detected: 0"),
            "{name}: {text}"
        );
    }
}
