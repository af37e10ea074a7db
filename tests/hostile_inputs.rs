//! The catalogue of hostile inputs (issue 6): every bad input a cron job can meet, run
//! through the real `sstcast` binary, must end with a documented exit code, a message naming
//! the offending file, variable or config key, and no file under a final output name.
//!
//! [`CASES`] is the table; `tests/hostile_inputs.md` is the same table for people (a test
//! checks that the two agree). Each case builds its input in a fresh temporary directory
//! (tiny NetCDF files written here with the `netcdf` crate, YAML pipelines, mounts), runs the
//! binary, and checks the exit code, the words of the message on stderr, and that the output
//! tree holds nothing but what the case expects (for a failure: no file at all, or exactly the
//! earlier outputs, byte for byte). The few cases that succeed (gaps that are repaired,
//! implausible values that are masked) fit a tiny model on a 4 x 4 grid and check the output.
//!
//! Two cases need root (a read-only mount and a 16 KiB tmpfs for "disk full"); without root
//! (or where `mount` is refused) they print `SKIPPED: ...` and check nothing else.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{listing, sstcast, stderr};

/// One catalogue entry.
struct Case {
    /// Short name, also the row in `hostile_inputs.md`.
    name: &'static str,
    /// How the input is made.
    how: &'static str,
    /// Acceptable exit codes (one, except where the OS decides between 73 and 74).
    codes: &'static [i32],
    /// Words the message (stderr) must contain.
    words: &'static [&'static str],
    /// Builds the input in the directory; returns the run to make.
    make: fn(&Path) -> Prepared,
    /// Extra checks after the run (outputs, earlier files).
    check: Option<fn(&Path, &Output)>,
}

/// A prepared run.
struct Prepared {
    /// Arguments after `sstcast`; `None` = skipped (reason printed).
    args: Result<Vec<String>, String>,
    /// Keeps a mount alive for the run.
    _mount: Option<Mount>,
}

impl Prepared {
    fn run(args: Vec<String>) -> Self {
        Self {
            args: Ok(args),
            _mount: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures: NetCDF files and pipelines.
// ---------------------------------------------------------------------------------------

const FILL: f32 = -999.0;

/// A tiny SST file: 4 x 4 cells (lat 30..-30, lon -135..135), `months` months from January
/// of `year`, 360_day calendar, cell (0, 0) land. Fields are changed per case.
#[derive(Clone)]
struct Nc {
    var: String,
    standard_name: Option<String>,
    units: Option<String>,
    second_var: Option<String>,
    dims: Vec<&'static str>,
    time_coord: bool,
    time_units: Option<String>,
    calendar: Option<String>,
    time_values: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    value: fn(usize, usize, usize) -> f32,
    /// NetCDF classic format instead of NetCDF-4.
    classic: bool,
    /// Latitude and longitude stored as float32, as many real products store them.
    f32_coords: bool,
}

fn seasonal(t: usize, i: usize, j: usize) -> f32 {
    if (i, j) == (0, 0) {
        return FILL;
    }
    15.0 + 5.0 * (t as f32 * std::f32::consts::PI / 6.0).sin() + 0.5 * i as f32 + 0.2 * j as f32
}

impl Nc {
    fn good(year: i64, months: usize) -> Self {
        let m0 = (year - 2000) * 12;
        Self {
            var: "sst".into(),
            standard_name: Some("sea_surface_temperature".into()),
            units: Some("degC".into()),
            second_var: None,
            dims: vec!["time", "lat", "lon"],
            time_coord: true,
            time_units: Some("days since 2000-01-01".into()),
            calendar: Some("360_day".into()),
            time_values: (0..months as i64)
                .map(|k| ((m0 + k) * 30 + 14) as f64)
                .collect(),
            lat: vec![30.0, 10.0, -10.0, -30.0],
            lon: vec![-135.0, -45.0, 45.0, 135.0],
            value: seasonal,
            classic: false,
            f32_coords: false,
        }
    }

    fn write(&self, path: &Path) -> PathBuf {
        let mut f = if self.classic {
            netcdf::create_with(path, netcdf::Options::empty()).unwrap()
        } else {
            netcdf::create(path).unwrap()
        };
        let nt = self.time_values.len();
        f.add_dimension("time", nt).unwrap();
        f.add_dimension("lat", self.lat.len()).unwrap();
        f.add_dimension("lon", self.lon.len()).unwrap();
        // Define everything first, then write (NetCDF classic cannot define after writing).
        let mut coords: Vec<(&str, Vec<f64>)> =
            vec![("lat", self.lat.clone()), ("lon", self.lon.clone())];
        if self.dims.contains(&"depth") {
            f.add_dimension("depth", 2).unwrap();
            let mut v = f.add_variable::<f64>("depth", &["depth"]).unwrap();
            v.put_attribute("units", "m").unwrap();
            coords.push(("depth", vec![0.0, 10.0]));
        }
        for (name, units) in [("lat", "degrees_north"), ("lon", "degrees_east")] {
            let mut v = if self.f32_coords {
                f.add_variable::<f32>(name, &[name]).unwrap()
            } else {
                f.add_variable::<f64>(name, &[name]).unwrap()
            };
            v.put_attribute("units", units).unwrap();
        }
        if self.time_coord {
            let mut v = f.add_variable::<f64>("time", &["time"]).unwrap();
            v.put_attribute("axis", "T").unwrap();
            if let Some(u) = &self.time_units {
                v.put_attribute("units", u.as_str()).unwrap();
            }
            if let Some(c) = &self.calendar {
                v.put_attribute("calendar", c.as_str()).unwrap();
            }
            coords.push(("time", self.time_values.clone()));
        }
        let mut names = vec![self.var.clone()];
        names.extend(self.second_var.clone());
        for name in &names {
            let mut v = f.add_variable::<f32>(name, &self.dims).unwrap();
            v.set_fill_value(FILL).unwrap();
            if let Some(u) = &self.units {
                v.put_attribute("units", u.as_str()).unwrap();
            }
            if let Some(s) = &self.standard_name {
                v.put_attribute("standard_name", s.as_str()).unwrap();
            }
        }
        if self.classic {
            f.enddef().unwrap();
        }
        for (name, values) in &coords {
            let mut v = f.variable_mut(name).unwrap();
            if self.f32_coords && (*name == "lat" || *name == "lon") {
                let narrow: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                v.put_values(&narrow, ..).unwrap();
            } else {
                v.put_values(values, ..).unwrap();
            }
        }
        let shape: Vec<usize> = self
            .dims
            .iter()
            .map(|d| match *d {
                "time" => nt,
                "lat" => self.lat.len(),
                "lon" => self.lon.len(),
                _ => 2,
            })
            .collect();
        let total: usize = shape.iter().product();
        let (nlat, nlon) = (self.lat.len(), self.lon.len());
        let data: Vec<f32> = (0..total)
            .map(|k| {
                // Index along time/lat/lon whatever the dimension order.
                let mut rest = k;
                let mut idx = [0usize; 3];
                for (d, &len) in self.dims.iter().zip(&shape).rev() {
                    let here = rest % len;
                    rest /= len;
                    match *d {
                        "time" => idx[0] = here,
                        "lat" => idx[1] = here,
                        "lon" => idx[2] = here,
                        _ => {}
                    }
                }
                (self.value)(idx[0], idx[1].min(nlat - 1), idx[2].min(nlon - 1))
            })
            .collect();
        for name in &names {
            f.variable_mut(name).unwrap().put_values(&data, ..).unwrap();
        }
        path.to_path_buf()
    }
}

/// The tiny pipeline: 2 x 2-cell tiles, a one-layer GRU with 4 units, 2 epochs.
fn yaml(input: &str, out: &Path) -> String {
    format!(
        r#"name: tiny
input:
  files: {input}
temporal: monthly
regions:
  tiles: [2, 2]
model:
  cell: gru
  layers: 1
  hidden: 4
  window: 12
  horizon: 12
  learning_rate: 0.01
  l2: 0.0
  epochs: 2
  batch: 8
  seed: 1
outputs:
  dir: {out}
  formats: [netcdf, geotiff, png]
"#,
        out = out.display()
    )
}

fn s(x: impl AsRef<std::ffi::OsStr>) -> String {
    x.as_ref().to_string_lossy().into_owned()
}

/// Writes `yaml` as `dir/tiny.yaml` and returns the arguments for `--year year`.
fn args_for(dir: &Path, yaml: &str, year: i64) -> Vec<String> {
    let cfg = common::pipeline(dir, "tiny", yaml);
    vec![
        "forecast".into(),
        "--config".into(),
        s(&cfg),
        "--year".into(),
        year.to_string(),
        "--threads".into(),
        "2".into(),
    ]
}

/// One file `dir/sst.nc` made by `nc`, the tiny pipeline, year 2013.
fn with_file(dir: &Path, nc: Nc) -> Prepared {
    let f = nc.write(&dir.join("sst.nc"));
    Prepared::run(args_for(dir, &yaml(&s(&f), &dir.join("out")), 2013))
}

/// Good data 2010-01..2013-12 and a pipeline text changed by `edit`.
fn with_yaml(dir: &Path, edit: fn(String) -> String) -> Prepared {
    let f = Nc::good(2010, 48).write(&dir.join("sst.nc"));
    let text = edit(yaml(&s(&f), &dir.join("out")));
    Prepared::run(args_for(dir, &text, 2013))
}

/// Good data, the tiny pipeline, year `year`.
fn with_year(dir: &Path, year: i64) -> Prepared {
    let f = Nc::good(2010, 48).write(&dir.join("sst.nc"));
    Prepared::run(args_for(dir, &yaml(&s(&f), &dir.join("out")), year))
}

/// The default pipeline file, unchanged, on `input` (with `--variable` when given), outputs
/// under `dir/out`, year 2013.
fn default_pipeline(dir: &Path, input: &Path, variable: Option<&str>) -> Prepared {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/ersst-monthly.yaml");
    let mut args: Vec<String> = vec![
        "forecast".into(),
        "--config".into(),
        s(&cfg),
        "--input".into(),
        s(input),
        "--out".into(),
        s(dir.join("out")),
        "--year".into(),
        "2013".into(),
        "--threads".into(),
        "2".into(),
    ];
    if let Some(v) = variable {
        args.extend(["--variable".into(), v.into()]);
    }
    Prepared::run(args)
}

/// `n` cell centres from the edge `from` at 1/1.2 degree (0.8333..., not representable:
/// stored as float32 the steps read back as 0.8333282 and 0.8333359), `dir` = 1 eastwards or
/// northwards, -1 southwards.
fn twelfths(from: f64, n: usize, dir: f64) -> Vec<f64> {
    (0..n)
        .map(|k| from + dir * (k as f64 + 0.5) / 1.2)
        .collect()
}

/// Monthly SST around 27 degC in kelvin: a seasonal cycle, gradients, and anomalies that
/// wander from month to month (a record without them has nothing to learn), one land cell
/// (0, 0).
fn kelvin(t: usize, i: usize, j: usize) -> f32 {
    if (i, j) == (0, 0) {
        return FILL;
    }
    let (t, x) = (t as f32, (i * 3 + j) as f32);
    let anomaly = 0.4 * (0.37 * t + 0.9 * x).sin() + 0.25 * (1.7 * t + 0.3 * x).cos();
    300.15 + 1.5 * (t * std::f32::consts::PI / 6.0).sin() - 0.2 * i as f32
        + 0.05 * j as f32
        + anomaly
}

/// The files of a default-pipeline run for 2013 under `dir/out`, with the named boxes
/// `boxes` fitted.
fn default_outputs(dir: &Path, boxes: &[&str]) -> Vec<String> {
    let out = dir.join("out/ersst-monthly/2013");
    let mut want: Vec<String> = FINAL_2013.iter().map(|f| f.to_string()).collect();
    for b in boxes {
        want.push(format!("series_{b}_2013.png"));
        want.push(format!("loss_{b}.png"));
    }
    want.sort();
    assert_eq!(listing(&out), want, "every output of the run, nothing else");
    want
}

/// A global attribute of the forecast NetCDF in `out`.
fn nc_global(out: &Path, name: &str) -> String {
    let f = netcdf::open(out.join("sst_forecast_2013.nc")).unwrap();
    match f.attribute(name).unwrap().value().unwrap() {
        netcdf::AttributeValue::Str(v) => v,
        other => panic!("{name}: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Mounts (root only).
// ---------------------------------------------------------------------------------------

/// A tmpfs mounted for one case, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, options: &str) -> Result<Self, String> {
        if !is_root() {
            return Err("not running as root: cannot mount a tmpfs".into());
        }
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "sstcast-test"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "mount -t tmpfs -o {options} refused: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(Self(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// Checks shared by cases.
// ---------------------------------------------------------------------------------------

/// Every regular file under `dir`, relative, sorted (hidden ones included), except the
/// saved region results under `.regions/`: those are kept on purpose by a failed run so
/// that the next run resumes (complete files written atomically, never under a final name).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && e.file_name() == ".regions" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(s(p.strip_prefix(root).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

const FINAL_2013: [&str; 9] = [
    "error_2013.png",
    "observed_2013.png",
    "report.html",
    "skill_2013.json",
    "skill_2013.md",
    "skill_2013.png",
    "sst_forecast_2013.nc",
    "sst_forecast_2013.png",
    "sst_forecast_2013.tif",
];

/// The forecast NetCDF of a successful tiny run.
fn forecast_cube(dir: &Path) -> sstcast::grid::Cube {
    let out = dir.join("out/tiny/2013");
    assert_eq!(listing(&out), FINAL_2013, "exactly the final files");
    sstcast::io::netcdf::read_cube(&[out.join("sst_forecast_2013.nc")], None).unwrap()
}

// ---------------------------------------------------------------------------------------
// The catalogue.
// ---------------------------------------------------------------------------------------

const DATA: &[i32] = &[65];
const NOINPUT: &[i32] = &[66];
const CONFIG: &[i32] = &[78];
const CANTCREAT: &[i32] = &[73];

static CASES: &[Case] = &[
    Case {
        name: "missing-file",
        how: "input.files names a file that does not exist",
        codes: NOINPUT,
        words: &["nope.nc", "does not exist"],
        make: |d| {
            Prepared::run(args_for(
                d,
                &yaml(&s(d.join("nope.nc")), &d.join("out")),
                2013,
            ))
        },
        check: None,
    },
    Case {
        name: "empty-directory",
        how: "input.files is a directory without any .nc file",
        codes: NOINPUT,
        words: &["no input file matches", "empty-dir"],
        make: |d| {
            std::fs::create_dir(d.join("empty-dir")).unwrap();
            std::fs::write(d.join("empty-dir/readme.txt"), "not data").unwrap();
            Prepared::run(args_for(
                d,
                &yaml(&s(d.join("empty-dir")), &d.join("out")),
                2013,
            ))
        },
        check: None,
    },
    Case {
        name: "glob-matches-nothing",
        how: "input.files is a glob that matches no file",
        codes: NOINPUT,
        words: &["no input file matches", "sst.mon.*.nc"],
        make: |d| {
            Prepared::run(args_for(
                d,
                &yaml(&s(d.join("sst.mon.*.nc")), &d.join("out")),
                2013,
            ))
        },
        check: None,
    },
    Case {
        name: "config-missing",
        how: "--config names a file that does not exist",
        codes: NOINPUT,
        words: &["cannot read pipeline config", "absent.yaml"],
        make: |d| {
            Prepared::run(vec![
                "forecast".into(),
                "--config".into(),
                s(d.join("absent.yaml")),
                "--year".into(),
                "2013".into(),
            ])
        },
        check: None,
    },
    Case {
        name: "truncated-netcdf",
        how: "a valid NetCDF-4 file cut to half its length",
        codes: DATA,
        words: &["sst.nc"],
        make: |d| {
            let p = Nc::good(2010, 48).write(&d.join("sst.nc"));
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            Prepared::run(args_for(d, &yaml(&s(&p), &d.join("out")), 2013))
        },
        check: None,
    },
    Case {
        name: "not-netcdf",
        how: "a text file named .nc",
        codes: DATA,
        words: &["cannot open", "sst.nc", "as NetCDF"],
        make: |d| {
            std::fs::write(d.join("sst.nc"), "date,sst\n2010-01,15.2\n").unwrap();
            Prepared::run(args_for(
                d,
                &yaml(&s(d.join("sst.nc")), &d.join("out")),
                2013,
            ))
        },
        check: None,
    },
    Case {
        name: "empty-file",
        how: "a zero-byte file named .nc",
        codes: DATA,
        words: &["cannot open", "sst.nc"],
        make: |d| {
            std::fs::write(d.join("sst.nc"), b"").unwrap();
            Prepared::run(args_for(
                d,
                &yaml(&s(d.join("sst.nc")), &d.join("out")),
                2013,
            ))
        },
        check: None,
    },
    Case {
        name: "no-sst-variable",
        how: "the data variable is called `temp` and has no standard_name",
        codes: DATA,
        words: &["no SST variable found", "sst.nc", "--variable"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.var = "temp".into();
            nc.standard_name = None;
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "two-candidate-variables",
        how: "two variables carry standard_name sea_surface_temperature",
        codes: DATA,
        words: &[
            "several candidate SST variables",
            "sst, sst_night",
            "sst.nc",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.second_var = Some("sst_night".into());
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "no-such-variable",
        how: "input.variable names a variable the file does not have",
        codes: DATA,
        words: &["no variable named \"analysed_sst\"", "sst.nc", "sst"],
        make: |d| {
            with_yaml(d, |y| {
                y.replace("temporal:", "  variable: analysed_sst\ntemporal:")
            })
        },
        check: None,
    },
    Case {
        name: "variable-name-with-nul",
        how: "input.variable: \"sst\\0\" (a YAML escape; found by fuzzing)",
        codes: CONFIG,
        words: &[
            "tiny.yaml",
            "`input.variable` must be a NetCDF variable name",
        ],
        make: |d| {
            with_yaml(d, |y| {
                y.replace("temporal:", "  variable: \"sst\\0\"\ntemporal:")
            })
        },
        check: None,
    },
    Case {
        name: "wrong-dimensions",
        how: "sst(lat, lon): no time dimension",
        codes: DATA,
        words: &[
            "variable \"sst\" has dimensions (lat, lon)",
            "no time dimension",
            "sst.nc",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.dims = vec!["lat", "lon"];
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "extra-dimension",
        how: "sst(time, depth, lat, lon) with two depth levels",
        codes: DATA,
        words: &["(time, depth, lat, lon)", "\"depth\" (length 2)", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.dims = vec!["time", "depth", "lat", "lon"];
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "no-time-coordinate",
        how: "a time dimension without a time coordinate variable (NetCDF classic)",
        codes: DATA,
        words: &[
            "dimension \"time\" (length 48) is not recognisable",
            "sst.nc",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.time_coord = false;
            nc.classic = true;
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "unparseable-time-units",
        how: "time:units = \"fortnights since 2000-01-01\"",
        codes: DATA,
        words: &[
            "time coordinate \"time\"",
            "fortnights since 2000-01-01",
            "sst.nc",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.time_units = Some("fortnights since 2000-01-01".into());
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "missing-time-units",
        how: "a time coordinate (axis T) without a units attribute",
        codes: DATA,
        words: &["time coordinate \"time\"", "no units attribute", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.time_units = None;
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "unknown-calendar",
        how: "time:calendar = \"martian\"",
        codes: DATA,
        words: &["unknown calendar \"martian\"", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.calendar = Some("martian".into());
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "time-out-of-range",
        how: "a time value of 1e300 days",
        codes: DATA,
        words: &["time coordinate \"time\"", "out of range", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.time_values[5] = 1e300;
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "unknown-temperature-units",
        how: "sst:units = \"degF\"",
        codes: DATA,
        words: &["variable \"sst\" has units \"degF\"", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.units = Some("degF".into());
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "kelvin-labelled-celsius",
        how: "values in kelvin (285..295) with units = \"degC\": every value implausible",
        codes: DATA,
        words: &["plausible SST range -3..45 degC", "\"degC\"", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.value = |t, i, j| {
                let v = seasonal(t, i, j);
                if v == FILL {
                    v
                } else {
                    v + 273.15
                }
            };
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "lat-not-monotonic",
        how: "lat = 30, 10, 20, -30",
        codes: DATA,
        words: &["coordinate \"lat\" is not strictly monotonic", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.lat = vec![30.0, 10.0, 20.0, -30.0];
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "lon-not-monotonic",
        how: "lon = -135, 45, -45, 135",
        codes: DATA,
        words: &["coordinate \"lon\" is not strictly monotonic", "sst.nc"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.lon = vec![-135.0, 45.0, -45.0, 135.0];
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "grids-differ",
        how: "two files, the second on latitudes shifted by 1 degree",
        codes: DATA,
        words: &["b-2012.nc has a different lat/lon grid from", "a-2010.nc"],
        make: |d| {
            Nc::good(2010, 24).write(&d.join("a-2010.nc"));
            let mut b = Nc::good(2012, 24);
            b.lat = vec![31.0, 11.0, -9.0, -29.0];
            b.write(&d.join("b-2012.nc"));
            Prepared::run(args_for(d, &yaml(&s(d.join("*.nc")), &d.join("out")), 2013))
        },
        check: None,
    },
    Case {
        name: "duplicated-months",
        how: "two files overlapping by six months",
        codes: DATA,
        words: &["time step 2011-07 appears twice", "a-2010.nc", "b-2011.nc"],
        make: |d| {
            Nc::good(2010, 24).write(&d.join("a-2010.nc"));
            let mut b = Nc::good(2011, 30);
            let m0 = (2011 - 2000) * 12 + 6;
            b.time_values = (0..30).map(|k| ((m0 + k) * 30 + 14) as f64).collect();
            b.write(&d.join("b-2011.nc"));
            Prepared::run(args_for(d, &yaml(&s(d.join("*.nc")), &d.join("out")), 2013))
        },
        check: None,
    },
    Case {
        name: "gap-of-months",
        how: "files for 2010-2011 and 2013: 2012 missing",
        codes: DATA,
        words: &["no data for 2012-01..2012-12", "a-2010.nc", "c-2013.nc"],
        make: |d| {
            Nc::good(2010, 24).write(&d.join("a-2010.nc"));
            Nc::good(2013, 12).write(&d.join("c-2013.nc"));
            Prepared::run(args_for(d, &yaml(&s(d.join("*.nc")), &d.join("out")), 2013))
        },
        check: None,
    },
    Case {
        name: "all-fill",
        how: "every value is _FillValue",
        codes: DATA,
        words: &["variable \"sst\" in", "sst.nc", "holds no valid value"],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.value = |_, _, _| FILL;
            with_file(d, nc)
        },
        check: None,
    },
    Case {
        name: "all-land-region",
        how: "a named box that covers only the land cell",
        codes: DATA,
        words: &["region \"land-only\"", "no ocean cell"],
        make: |d| {
            with_yaml(d, |y| {
                y.replace(
                    "  tiles: [2, 2]",
                    "  boxes:\n    - {name: land-only, lat: [25, 35], lon: [-140, -130]}",
                )
            })
        },
        check: None,
    },
    Case {
        name: "float32-kelvin-band",
        how: "the default pipeline file with --input and --variable on a tropical band 0.4..4.6N x 180..195E: float32 coordinates at 1/1.2 degree (0..360), `sea_temp` in K without standard_name, 2008-2013",
        codes: &[0],
        words: &[
            "iceland-south (outside the input's domain)",
            "named box nino34 reaches beyond the domain",
        ],
        make: |d| {
            let mut nc = Nc::good(2008, 72);
            nc.var = "sea_temp".into();
            nc.standard_name = None;
            nc.units = Some("K".into());
            nc.f32_coords = true;
            nc.lat = twelfths(5.0, 5, -1.0);
            nc.lon = twelfths(180.0, 18, 1.0);
            nc.value = kelvin;
            let f = nc.write(&d.join("band.nc"));
            default_pipeline(d, &f, Some("sea_temp"))
        },
        check: Some(|d, _| {
            default_outputs(d, &["nino34"]);
            let out = d.join("out/ersst-monthly/2013");
            assert_eq!(nc_global(&out, "sstcast_boxes"), "nino34");
            assert!(nc_global(&out, "comment").contains("iceland-south (outside"));
            let fc = sstcast::io::netcdf::read_cube(&[out.join("sst_forecast_2013.nc")], None)
                .unwrap();
            assert_eq!((fc.grid.nlat(), fc.grid.nlon(), fc.len()), (5, 18, 12));
            let ocean: Vec<f32> = fc.values.iter().copied().filter(|v| v.is_finite()).collect();
            assert_eq!(ocean.len(), 12 * (5 * 18 - 1), "every ocean cell, land fill");
            assert!(ocean.iter().all(|v| (20.0..35.0).contains(v)), "degC");
            // The GeoTIFF on the grid the file meant: 180E is -180, step 1/1.2, 5N edge.
            let tif = out.join("sst_forecast_2013.tif");
            let ds = gdal::Dataset::open(&tif).unwrap();
            assert_eq!(
                ds.geo_transform().unwrap(),
                [-180.0, 1.0 / 1.2, 0.0, 5.0, 0.0, -1.0 / 1.2]
            );
            use gdal::Metadata;
            assert_eq!(ds.metadata_item("boxes", "").as_deref(), Some("nino34"));
            common::validate_cog(&tif).unwrap_or_else(|r| panic!("{r}"));
        }),
    },
    Case {
        name: "regional-file-without-boxes",
        how: "the default pipeline file with --input on a 1-degree file 40..44N x 10..19E, which holds neither of its named boxes",
        codes: &[0],
        words: &[
            "named box iceland-south (outside the input's domain) is not fitted",
            "named box nino34 (outside the input's domain) is not fitted",
        ],
        make: |d| {
            let mut nc = Nc::good(2008, 72);
            nc.lat = (0..5).map(|i| 44.0 - i as f64).collect();
            nc.lon = (0..10).map(|j| 10.0 + j as f64).collect();
            let f = nc.write(&d.join("med.nc"));
            default_pipeline(d, &f, None)
        },
        check: Some(|d, _| {
            default_outputs(d, &[]);
            let out = d.join("out/ersst-monthly/2013");
            assert_eq!(nc_global(&out, "sstcast_boxes"), "");
        }),
    },
    Case {
        name: "irregular-latitudes",
        how: "lat = 30, 10, -12, -30 (steps 20, 22, 18): a GeoTIFF cannot georeference it",
        codes: &[0],
        words: &[
            "sst_forecast_2013.tif is not written",
            "sst.nc",
            "latitude -12 at index 2",
            "left by an earlier run",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.lat = vec![30.0, 10.0, -12.0, -30.0];
            // A GeoTIFF left by an earlier run in the same directory must not stay beside
            // this run's forecast.
            let out = d.join("out/tiny/2013");
            std::fs::create_dir_all(&out).unwrap();
            std::fs::write(out.join("sst_forecast_2013.tif"), b"an earlier run's").unwrap();
            with_file(d, nc)
        },
        check: Some(|d, o| {
            let out = d.join("out/tiny/2013");
            let want: Vec<&str> = FINAL_2013
                .iter()
                .copied()
                .filter(|f| !f.ends_with(".tif"))
                .collect();
            assert_eq!(listing(&out), want, "every output but the GeoTIFF");
            // Found before fitting, not after.
            let err = stderr(o);
            let warned = err.find("is not written").unwrap();
            let fitting = err.find("fitted tile_").expect("regions fitted");
            assert!(warned < fitting, "{err}");
        }),
    },
    Case {
        name: "year-before-data",
        how: "--year 2005 with data from 2010-01",
        codes: DATA,
        words: &["starts at 2010-01", "no training data before", "2005-01"],
        make: |d| with_year(d, 2005),
        check: None,
    },
    Case {
        name: "year-too-few-training-months",
        how: "--year 2011: 12 training months < window 12 + horizon 12",
        codes: DATA,
        words: &[
            "12 training steps before 2011-01",
            "model.window + model.horizon = 24",
        ],
        make: |d| with_year(d, 2011),
        check: None,
    },
    Case {
        name: "year-far-beyond-data",
        how: "--year 2100 with data ending 2013-12",
        codes: DATA,
        words: &["the input ends at 2013-12", "2100-01"],
        make: |d| with_year(d, 2100),
        check: None,
    },
    Case {
        name: "year-out-of-range",
        how: "--year 0",
        codes: CONFIG,
        words: &["--year", "between 1 and 9999"],
        make: |d| with_year(d, 0),
        check: None,
    },
    Case {
        name: "yaml-syntax-error",
        how: "an unclosed flow sequence in the pipeline",
        codes: CONFIG,
        words: &["tiny.yaml", "line 6", "column"],
        make: |d| with_yaml(d, |y| y.replace("tiles: [2, 2]", "tiles: [2, 2")),
        check: None,
    },
    Case {
        name: "unknown-key",
        how: "`epoch:` instead of `epochs:`",
        codes: CONFIG,
        words: &["tiny.yaml", "unknown field `epoch`", "line 15"],
        make: |d| with_yaml(d, |y| y.replace("  epochs: 2", "  epoch: 2")),
        check: None,
    },
    Case {
        name: "wrong-type",
        how: "`hidden: many`",
        codes: CONFIG,
        words: &["tiny.yaml", "model.hidden", "line 10"],
        make: |d| with_yaml(d, |y| y.replace("hidden: 4", "hidden: many")),
        check: None,
    },
    Case {
        name: "negative-hyperparameter",
        how: "`hidden: -4` (an unsigned size)",
        codes: CONFIG,
        words: &["tiny.yaml", "model.hidden", "-4", "line 10"],
        make: |d| with_yaml(d, |y| y.replace("hidden: 4", "hidden: -4")),
        check: None,
    },
    Case {
        name: "zero-hyperparameter",
        how: "`epochs: 0`",
        codes: CONFIG,
        words: &["tiny.yaml", "`model.epochs` must be at least 1"],
        make: |d| with_yaml(d, |y| y.replace("epochs: 2", "epochs: 0")),
        check: None,
    },
    Case {
        name: "negative-learning-rate",
        how: "`learning_rate: -0.01`",
        codes: CONFIG,
        words: &[
            "tiny.yaml",
            "`model.learning_rate` must be a positive number",
        ],
        make: |d| {
            with_yaml(d, |y| {
                y.replace("learning_rate: 0.01", "learning_rate: -0.01")
            })
        },
        check: None,
    },
    Case {
        name: "zero-threads",
        how: "--threads 0",
        codes: CONFIG,
        words: &["--threads", "at least 1"],
        make: |d| {
            let mut p = with_year(d, 2013);
            if let Ok(a) = &mut p.args {
                *a.last_mut().unwrap() = "0".into();
            }
            p
        },
        check: None,
    },
    Case {
        name: "unknown-flag",
        how: "--yaer 2013 (a typo on the command line)",
        codes: &[64],
        words: &["--yaer"],
        make: |_| Prepared::run(vec!["forecast".into(), "--yaer".into(), "2013".into()]),
        check: None,
    },
    Case {
        name: "output-dir-is-a-file",
        how: "outputs.dir is an existing regular file",
        codes: CANTCREAT,
        words: &["cannot create output directory", "not-a-dir"],
        make: |d| {
            let f = Nc::good(2010, 48).write(&d.join("sst.nc"));
            std::fs::write(d.join("not-a-dir"), "x").unwrap();
            Prepared::run(args_for(d, &yaml(&s(&f), &d.join("not-a-dir")), 2013))
        },
        check: None,
    },
    Case {
        name: "output-dir-not-writable",
        how: "outputs.dir on a read-only tmpfs (root) or a mode-0555 directory (non-root)",
        codes: CANTCREAT,
        words: &["ro-out"],
        make: |d| {
            let f = Nc::good(2010, 48).write(&d.join("sst.nc"));
            let out = d.join("ro-out");
            let mount = if is_root() {
                match Mount::tmpfs(&out, "ro,size=64k") {
                    Ok(m) => Some(m),
                    Err(why) => {
                        return Prepared {
                            args: Err(why),
                            _mount: None,
                        }
                    }
                }
            } else {
                use std::os::unix::fs::PermissionsExt;
                std::fs::create_dir(&out).unwrap();
                std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
                None
            };
            Prepared {
                args: Ok(args_for(d, &yaml(&s(&f), &out), 2013)),
                _mount: mount,
            }
        },
        check: Some(|d, _| assert!(tree(&d.join("ro-out")).is_empty())),
    },
    Case {
        name: "disk-full",
        how: "outputs.dir on a 16 KiB tmpfs holding an earlier output (root only)",
        codes: &[73, 74],
        words: &["sst_forecast_2013"],
        make: |d| {
            let f = Nc::good(2010, 48).write(&d.join("sst.nc"));
            let out = d.join("small-disk");
            let mount = match Mount::tmpfs(&out, "size=16k") {
                Ok(m) => m,
                Err(why) => {
                    return Prepared {
                        args: Err(why),
                        _mount: None,
                    }
                }
            };
            std::fs::create_dir_all(out.join("tiny/2013")).unwrap();
            std::fs::write(out.join("tiny/2013/sst_forecast_2013.nc"), "earlier run").unwrap();
            Prepared {
                args: Ok(args_for(d, &yaml(&s(&f), &out), 2013)),
                _mount: Some(mount),
            }
        },
        check: Some(|d, _| {
            let out = d.join("small-disk");
            assert_eq!(tree(&out), vec!["tiny/2013/sst_forecast_2013.nc"]);
            let earlier = std::fs::read(out.join("tiny/2013/sst_forecast_2013.nc")).unwrap();
            assert_eq!(earlier, b"earlier run", "the earlier output is untouched");
        }),
    },
    Case {
        name: "read-only-earlier-output",
        how: "an earlier sst_forecast_2013.png with mode 0444 in the output directory",
        codes: CANTCREAT,
        words: &[
            "sst_forecast_2013.png",
            "exists and is read-only",
            "chmod u+w",
        ],
        make: |d| {
            use std::os::unix::fs::PermissionsExt;
            let f = Nc::good(2010, 48).write(&d.join("sst.nc"));
            let out = d.join("out/tiny/2013");
            std::fs::create_dir_all(&out).unwrap();
            let png = out.join("sst_forecast_2013.png");
            std::fs::write(&png, "protected").unwrap();
            std::fs::set_permissions(&png, std::fs::Permissions::from_mode(0o444)).unwrap();
            Prepared::run(args_for(d, &yaml(&s(&f), &d.join("out")), 2013))
        },
        check: Some(|d, o| {
            let out = d.join("out/tiny/2013");
            assert_eq!(tree(&out), vec!["sst_forecast_2013.png"]);
            assert_eq!(
                std::fs::read(out.join("sst_forecast_2013.png")).unwrap(),
                b"protected"
            );
            // Refused before fitting: no region was fitted.
            assert!(!stderr(o).contains("fitted tile_"), "{}", stderr(o));
        }),
    },
    Case {
        name: "failed-rerun-keeps-earlier-outputs",
        how: "a good run, then the same run with its input file deleted",
        codes: NOINPUT,
        words: &["sst.nc", "does not exist"],
        make: |d| {
            let p = with_year(d, 2013);
            let args = p.args.clone().unwrap();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = sstcast(d, &refs);
            assert!(o.status.success(), "first run: {}", stderr(&o));
            let out = d.join("out/tiny/2013");
            let saved = d.join("saved");
            std::fs::create_dir(&saved).unwrap();
            for f in FINAL_2013 {
                std::fs::copy(out.join(f), saved.join(f)).unwrap();
            }
            std::fs::remove_file(d.join("sst.nc")).unwrap();
            p
        },
        check: Some(|d, _| {
            let out = d.join("out/tiny/2013");
            assert_eq!(listing(&out), FINAL_2013);
            for f in FINAL_2013 {
                assert_eq!(
                    std::fs::read(out.join(f)).unwrap(),
                    std::fs::read(d.join("saved").join(f)).unwrap(),
                    "{f} changed"
                );
            }
        }),
    },
    Case {
        name: "nan-gaps-in-training",
        how:
            "ocean cell (1,1) misses 2 months in 2011 (interpolated); cell (2,2) misses 5 (masked)",
        codes: &[0],
        words: &[
            "interpolated 2 missing value(s) in 1 cell(s)",
            "masked 1 ocean cell(s)",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.value = |t, i, j| match (t, i, j) {
                (14 | 15, 1, 1) => FILL,
                (20..=24, 2, 2) => FILL,
                _ => seasonal(t, i, j),
            };
            with_file(d, nc)
        },
        check: Some(|d, _| {
            let fc = forecast_cube(d);
            let lead0 = fc.step(0);
            assert!(lead0[0].is_nan(), "land");
            assert!(lead0[4 + 1].is_finite(), "short gap interpolated: forecast");
            assert!(lead0[2 * 4 + 2].is_nan(), "long gap masked: no forecast");
            assert!(lead0[3 * 4 + 3].is_finite());
        }),
    },
    Case {
        name: "implausible-values",
        how: "one value of 99 degC (cell (3,3), April 2010) among good data",
        codes: &[0],
        words: &[
            "sst.nc",
            "1 value(s) outside the plausible SST range -3..45 degC",
            "max 99",
            "masked as missing",
        ],
        make: |d| {
            let mut nc = Nc::good(2010, 48);
            nc.value = |t, i, j| match (t, i, j) {
                (3, 3, 3) => 99.0,
                _ => seasonal(t, i, j),
            };
            with_file(d, nc)
        },
        check: Some(|d, _| {
            let fc = forecast_cube(d);
            // The masked month is a 1-month gap, interpolated: the cell keeps its forecast.
            assert!(fc.step(0)[15].is_finite());
        }),
    },
];

/// Runs one case; returns a description of what went wrong, if anything.
fn run_case(c: &Case) -> Option<String> {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let prepared = (c.make)(d);
    let args = match &prepared.args {
        Ok(a) => a.clone(),
        Err(why) => {
            eprintln!("SKIPPED: case {}: {why}", c.name);
            return None;
        }
    };
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sstcast(d, &refs);
    let err = stderr(&o);
    let mut problems = Vec::new();
    match o.status.code() {
        Some(code) if c.codes.contains(&code) => {}
        other => problems.push(format!("exit code {other:?}, expected {:?}", c.codes)),
    }
    for w in c.words {
        if !err.contains(w) {
            problems.push(format!("message lacks {w:?}"));
        }
    }
    if o.status.code() != Some(0) {
        // A failed run leaves no file under a final name in the default output tree
        // (cases with earlier outputs check their own trees).
        let out = d.join("out");
        let left: Vec<String> = tree(&out)
            .into_iter()
            .filter(|f| !(c.check.is_some() && f.starts_with("tiny/2013/")))
            .collect();
        if !left.is_empty() {
            problems.push(format!("files left under {}: {left:?}", out.display()));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
    }
    if let Some(check) = c.check {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(d, &o))) {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            problems.push(format!("check failed: {msg}"));
        }
    }
    drop(prepared);
    (!problems.is_empty()).then(|| {
        format!(
            "case {} ({}):\n  - {}\n  stderr:\n{}",
            c.name,
            c.how,
            problems.join("\n  - "),
            err
        )
    })
}

#[test]
fn catalogue_of_hostile_inputs() {
    assert!(CASES.len() >= 25, "the issue asks for at least 25 cases");
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names are unique");
    // HOSTILE_CASES=a,b runs only those cases (while working on them).
    let only = std::env::var("HOSTILE_CASES").ok();
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| {
            only.as_ref()
                .is_none_or(|o| o.split(',').any(|n| n == c.name))
        })
        .collect();
    // Cases are independent: run them on a few threads.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases
            .chunks(cases.len().div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .copied()
                        .filter_map(run_case)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// `tests/hostile_inputs.md` lists every case with its exit code(s).
#[test]
fn catalogue_document_matches_the_table() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile_inputs.md"),
    )
    .unwrap();
    for c in CASES {
        let codes = c
            .codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        let row = format!("| `{}` | {} |", c.name, codes);
        assert!(
            doc.contains(&row),
            "hostile_inputs.md lacks the row {row:?}"
        );
    }
    let rows = doc.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(
        rows,
        CASES.len(),
        "hostile_inputs.md has rows for unknown cases"
    );
}

/// Writes the table rows for the document (run with `--ignored --nocapture` to regenerate).
#[test]
#[ignore]
fn print_catalogue_rows() {
    for c in CASES {
        let codes = c
            .codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        let words = c
            .words
            .iter()
            .map(|w| format!("`{}`", w.replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join(", ");
        println!("| `{}` | {} | {} | {} |", c.name, codes, c.how, words);
    }
}
