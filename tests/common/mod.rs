//! Test harness: temporary directories, the real ERSST grids, and running the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The ERSST v5 per-year files: `grids/ersst-v5/monthly` (after `make grids`) or the shared
/// mirror next to the repository. `None` when neither exists.
pub fn ersst_monthly() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("grids/ersst-v5/monthly"),
        root.join("../shared/grids/ersst-v5/monthly"),
    ]
    .into_iter()
    .find(|p| p.join("sst.mon.2018.nc").exists())
}

/// The shared CF checker, when present.
pub fn cfcheck() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/cfcheck");
    p.exists().then_some(p)
}

/// Runs `sstcast` with `args` in `cwd`.
pub fn sstcast(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstcast"))
        .args(args)
        .current_dir(cwd)
        .env("SSTCAST_LOG", "info")
        // Tests write NetCDF-4 fixtures from several threads while spawning sstcast: a child
        // can inherit another fixture's open HDF5 descriptor and its lock, which makes an
        // unrelated read fail at random. HDF5's file locking is off for the children.
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run sstcast")
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes a pipeline file into `dir` and returns its path.
pub fn pipeline(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, yaml).unwrap();
    p
}

/// A small real pipeline: three named boxes, a small GRU, a few epochs.
pub fn small_pipeline(input: &str, out: &Path) -> String {
    format!(
        r#"name: small
product: NOAA ERSST v5
input:
  files: {input}
temporal: monthly
regions:
  boxes:
    - name: iceland-south
      lat: [56, 64]
      lon: [340, 348]
    - name: nino34
      lat: [-5, 5]
      lon: [190, 240]
    - name: tasman
      lat: [-44, -34]
      lon: [150, 170]
model: {{cell: gru, layers: 2, hidden: 12, window: 24, horizon: 12, learning_rate: 0.005, l2: 1.0e-5, epochs: 4, batch: 16, seed: 3}}
outputs:
  dir: {out}
  formats: [netcdf, geotiff, png]
"#,
        out = out.display()
    )
}

/// Names of the files in `dir` (sorted), to check that no temporary file is left. The
/// saved region results (`.regions/`, kept on purpose so that a rerun resumes; see README
/// "Resumable runs") are not listed; lock and staging files are.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".regions")
        .collect();
    v.sort();
    v
}

/// The final files of a run of [`small_pipeline`] for 2018.
pub const FINAL_SMALL_2018: [&str; 15] = [
    "error_2018.png",
    "loss_iceland-south.png",
    "loss_nino34.png",
    "loss_tasman.png",
    "observed_2018.png",
    "report.html",
    "series_iceland-south_2018.png",
    "series_nino34_2018.png",
    "series_tasman_2018.png",
    "skill_2018.json",
    "skill_2018.md",
    "skill_2018.png",
    "sst_forecast_2018.nc",
    "sst_forecast_2018.png",
    "sst_forecast_2018.tif",
];

/// The forecast values of the 2018 NetCDF in `dir`, as bits.
pub fn sst_bits(dir: &Path) -> Vec<u32> {
    let c = sstcast::io::netcdf::read_cube(&[dir.join("sst_forecast_2018.nc")], None).unwrap();
    c.values.iter().map(|v| v.to_bits()).collect()
}

/// `b` holds exactly the final files of `a` (a small-pipeline 2018 run) with the same
/// content: every file byte for byte, except the NetCDF, whose `history` attribute records
/// the time and command line: there the forecast values are compared bit for bit; and
/// `report.html`, which also names the output directory: it embeds the other figures, which
/// are compared.
pub fn assert_same_outputs(a: &Path, b: &Path) {
    assert_eq!(listing(a), FINAL_SMALL_2018, "{}", a.display());
    assert_eq!(listing(b), FINAL_SMALL_2018, "{}", b.display());
    for f in FINAL_SMALL_2018 {
        if f.ends_with(".nc") || f.ends_with(".html") {
            continue;
        }
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    assert_eq!(sst_bits(a), sst_bits(b), "forecast values differ");
}

/// Opens the HTML page `page` in headless Chromium (`tests/browser/check_page.py`: Selenium
/// with Debian's chromium and chromedriver) and checks that every image loads, that the
/// console shows no error, that no request leaves the page or fails, that a 390-px phone does
/// not scroll sideways and that the page prints. The screenshots (desktop, phone) and the PDF
/// are kept in `<target>/tmp/report-pages/<name>-*` to be looked at.
///
/// `None` (skip) when the browser is not installed, unless `SSTCAST_REQUIRE_BROWSER=1` (set by
/// `make test`, so CI cannot skip it silently); `Some(Err(report))` when the page has a
/// problem; `Some(Ok(report))` when it passes.
pub fn browser_check(page: &Path, name: &str) -> Option<Result<String, String>> {
    let required = std::env::var("SSTCAST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let python = Path::new("/usr/bin/python3");
    let have = python.exists()
        && Path::new("/usr/bin/chromium").exists()
        && Path::new("/usr/bin/chromedriver").exists()
        && Command::new(python)
            .args(["-c", "import selenium"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "SSTCAST_REQUIRE_BROWSER=1 but chromium, chromium-driver or python3-selenium is missing (make deps)"
        );
        eprintln!("SKIPPED: no headless browser (make deps installs chromium, chromium-driver, python3-selenium)");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-pages");
    let o = Command::new(python)
        .arg(root.join("tests/browser/check_page.py"))
        .arg(page)
        .arg(&shots)
        .arg(name)
        .output()
        .expect("run check_page.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_ne!(
        o.status.code(),
        Some(2),
        "the browser did not start: {text}"
    );
    Some(if o.status.success() {
        Ok(text)
    } else {
        Err(text)
    })
}

/// `report.html` in `dir` embeds every PNG of `dir`, byte for byte (and no other image), and
/// names every other file; returns the page.
pub fn assert_report_embeds_every_figure(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let names = listing(dir);
    let mut pngs = 0;
    for n in names
        .iter()
        .filter(|n| !n.starts_with('.') && *n != "report.html")
    {
        if n.ends_with(".png") {
            let bytes = std::fs::read(dir.join(n)).unwrap();
            let uri = format!("data:image/png;base64,{}", sstcast::report::base64(&bytes));
            assert!(html.contains(&uri), "{n} is not embedded in report.html");
            pngs += 1;
        }
        assert!(html.contains(&format!("<code>{n}</code>")), "{n} not named");
    }
    assert_eq!(html.matches("<img ").count(), pngs, "one image per figure");
    html
}

/// GDAL's Cloud-Optimized GeoTIFF validator (Debian `python3-gdal`, installed by `make deps`)
/// on `path`, full check: `Ok(report)` when the file is a valid COG, `Err(report)` when it is
/// not. Run with Debian's own `/usr/bin/python3`, whose path holds `osgeo_utils` (a python3 of
/// pyenv or a venv found first on PATH would not). Panics when the validator is missing: the
/// COG tests are not optional.
pub fn validate_cog(path: &Path) -> Result<String, String> {
    let python = Path::new("/usr/bin/python3");
    let o = Command::new(python)
        .args([
            "-m",
            "osgeo_utils.samples.validate_cloud_optimized_geotiff",
            "--full-check=yes",
        ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !text.contains("No module named"),
        "GDAL's COG validator is missing: install python3-gdal (make deps): {text}"
    );
    if o.status.success() && text.contains("is a valid cloud optimized GeoTIFF") {
        Ok(text)
    } else {
        Err(text)
    }
}

/// `gdalinfo` of `path`, as text.
pub fn gdalinfo(path: &Path) -> String {
    let o = Command::new("gdalinfo")
        .arg(path)
        .output()
        .expect("run gdalinfo (gdal-bin)");
    assert!(o.status.success(), "gdalinfo {}", path.display());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The first "(x, y)" pair on gdalinfo's corner line `label` ("Upper Left", ...).
pub fn gdal_corner(text: &str, label: &str) -> (f64, f64) {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("gdalinfo output lacks {label:?}"));
    let inner = &line[line.find('(').unwrap() + 1..line.find(')').unwrap()];
    let (x, y) = inner.split_once(',').unwrap();
    (x.trim().parse().unwrap(), y.trim().parse().unwrap())
}
