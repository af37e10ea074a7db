//! Interoperability (issue 14): the forecast NetCDF and GeoTIFF of a small pipeline run, opened
//! by the Python tools their users have (xarray with netCDF4, rioxarray), decode to the right
//! times, coordinates, units and nodata, and agree cell by cell (`tests/interop.py` holds the
//! checks).
//!
//! The input is the kind that trips writers up: float32 coordinates at 1/1.2 degree,
//! latitudes south to north, longitudes 0..360 across the dateline (the outputs keep one
//! contiguous range past 180).
//!
//! Python: `SSTCAST_INTEROP_PYTHON` (the Makefile's `make test` sets it to the venv it builds,
//! `interop-venv`); without it, the default venv `~/.cache/sstcast-interop-venv` when it
//! exists, else the test prints SKIPPED. When the variable is set, a Python that cannot run
//! the checks fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{pipeline, sstcast, stderr};

/// The Python to run the checks with, `None` to skip.
fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SSTCAST_INTEROP_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".cache/sstcast-interop-venv/bin/python");
    p.exists().then_some(p)
}

/// 8 x 16 cells at 1/1.2 degree, float32 coordinates: latitudes from 5S northwards,
/// longitudes from 170E eastwards; monthly 2010-2013 in degC, 360_day calendar; two land
/// cells.
fn write_fixture(path: &Path) {
    let lat: Vec<f32> = (0..8)
        .map(|i| (-5.0 + (i as f64 + 0.5) / 1.2) as f32)
        .collect();
    let lon: Vec<f32> = (0..16)
        .map(|j| (170.0 + (j as f64 + 0.5) / 1.2) as f32)
        .collect();
    let nt = 48;
    let mut f = netcdf::create(path).unwrap();
    f.add_dimension("time", nt).unwrap();
    f.add_dimension("lat", lat.len()).unwrap();
    f.add_dimension("lon", lon.len()).unwrap();
    let mut v = f.add_variable::<f32>("lat", &["lat"]).unwrap();
    v.put_attribute("units", "degrees_north").unwrap();
    v.put_values(&lat, ..).unwrap();
    let mut v = f.add_variable::<f32>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(&lon, ..).unwrap();
    let mut v = f.add_variable::<f64>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 2000-01-01").unwrap();
    v.put_attribute("calendar", "360_day").unwrap();
    let time: Vec<f64> = (0..nt).map(|k| ((120 + k) * 30 + 14) as f64).collect();
    v.put_values(&time, ..).unwrap();
    let fill = -999.0f32;
    let mut v = f
        .add_variable::<f32>("sst", &["time", "lat", "lon"])
        .unwrap();
    v.set_fill_value(fill).unwrap();
    v.put_attribute("units", "degC").unwrap();
    v.put_attribute("standard_name", "sea_surface_temperature")
        .unwrap();
    let data: Vec<f32> = (0..nt * 8 * 16)
        .map(|k| {
            let (t, i, j) = (k / 128, k / 16 % 8, k % 16);
            if (i, j) == (0, 0) || (i, j) == (7, 15) {
                fill
            } else {
                27.0 + 1.5 * (t as f32 * std::f32::consts::PI / 6.0).sin() + 0.1 * i as f32
                    - 0.05 * j as f32
            }
        })
        .collect();
    v.put_values(&data, ..).unwrap();
}

#[test]
fn xarray_and_rioxarray_read_the_forecast_files_alike() {
    let Some(py) = python() else {
        eprintln!(
            "SKIPPED: no Python for the interoperability checks (set SSTCAST_INTEROP_PYTHON or run `make test`, which builds the venv)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_fixture(&d.join("band.nc"));
    let yaml = format!(
        r#"name: interop
input:
  files: {input}
temporal: monthly
regions:
  tiles: [4, 4]
  boxes:
    - name: nino4
      lat: [-5, 5]
      lon: [160, 210]
model: {{cell: gru, layers: 1, hidden: 4, window: 12, horizon: 12, learning_rate: 0.01, epochs: 2, batch: 8, seed: 1}}
outputs:
  dir: {out}
  formats: [netcdf, geotiff, png]
"#,
        input = d.join("band.nc").display(),
        out = d.join("out").display()
    );
    let cfg = pipeline(d, "interop", &yaml);
    let o = sstcast(
        d,
        &[
            "forecast",
            "--config",
            cfg.to_str().unwrap(),
            "--year",
            "2013",
            "--threads",
            "2",
        ],
    );
    assert!(o.status.success(), "sstcast failed: {}", stderr(&o));
    let out = d.join("out/interop/2013");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop.py");
    let t0 = std::time::Instant::now();
    let o = Command::new(&py)
        .arg(&script)
        .arg(out.join("sst_forecast_2013.nc"))
        .arg(out.join("sst_forecast_2013.tif"))
        .arg("2013")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    println!("{text}({:.1} s)", t0.elapsed().as_secs_f64());
    assert!(
        o.status.success() && text.contains("checks passed"),
        "{} tests/interop.py failed:\n{text}",
        py.display()
    );
}
