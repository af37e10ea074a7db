//! End to end on real NOAA ERSST v5 data: the binary reads the per-year files, fits a few
//! regions, and writes NetCDF, GeoTIFF and PNG that are checked for shape, georeferencing,
//! plausible values, CF compliance and the absence of any use of data from the forecast year.

mod common;

use std::path::Path;

use common::*;
use gdal::Metadata;
use sstcast::io::netcdf::read_cube;
use sstcast::time::Period;

/// Runs the small pipeline on `input` into `out`; returns the output directory.
fn run(dir: &Path, input: &str, out: &Path) -> std::path::PathBuf {
    let cfg = pipeline(dir, "small", &small_pipeline(input, out));
    let o = sstcast(
        dir,
        &[
            "forecast",
            "--config",
            cfg.to_str().unwrap(),
            "--year",
            "2018",
            "--threads",
            "2",
        ],
    );
    assert!(o.status.success(), "sstcast failed: {}", stderr(&o));
    out.join("small/2018")
}

#[test]
fn forecast_2018_on_ersst_writes_checked_outputs() {
    let Some(data) = ersst_monthly() else {
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let glob = format!("{}/sst.mon.*.nc", data.display());
    let dir = run(tmp.path(), &glob, &out);
    assert_eq!(
        listing(&dir),
        FINAL_SMALL_2018,
        "exactly the final files, no temporary leftovers"
    );

    // NetCDF: full grid, 12 months from 2018-01, canonical orientation, values only in regions.
    let nc = dir.join("sst_forecast_2018.nc");
    let fc = read_cube(std::slice::from_ref(&nc), None).unwrap();
    assert_eq!((fc.grid.nlat(), fc.grid.nlon(), fc.len()), (89, 180, 12));
    assert_eq!(fc.start, Period::month(2018, 1));
    assert_eq!((fc.grid.lat[0], fc.grid.lon[0]), (88.0, -180.0));
    let obs = read_cube(&[data.join("sst.mon.2018.nc")], None).unwrap();
    let cell = |lat: f64, lon: f64| {
        let i = fc.grid.lat.iter().position(|&v| v == lat).unwrap();
        let j = fc.grid.lon.iter().position(|&v| v == lon).unwrap();
        i * 180 + j
    };
    // Nino 3.4 centre (0N, 170W) and south of Iceland (60N, 16W): plausible and close to what
    // was observed in 2018 (a loose bound: this is a 4-epoch model).
    for (lat, lon, lo, hi) in [(0.0, -170.0, 24.0, 31.0), (60.0, -16.0, 5.0, 14.0)] {
        let k = cell(lat, lon);
        for m in 0..12 {
            let (f, o) = (fc.step(m)[k], obs.step(m)[k]);
            assert!((lo..hi).contains(&f), "{lat},{lon} month {m}: forecast {f}");
            assert!(
                (f - o).abs() < 3.0,
                "{lat},{lon} month {m}: forecast {f} vs observed {o}"
            );
        }
    }
    // Outside the regions: fill. Land inside a region: fill.
    assert!(fc.step(0)[cell(0.0, 0.0)].is_nan());
    let in_regions = fc.step(0).iter().filter(|v| v.is_finite()).count();
    assert!(
        (150..=400).contains(&in_regions),
        "{in_regions} forecast cells"
    );

    // GeoTIFF: 12 float32 bands, EPSG:4326, north-up cell-edge georeferencing, band names.
    let ds = gdal::Dataset::open(dir.join("sst_forecast_2018.tif")).unwrap();
    assert_eq!(ds.raster_count(), 12);
    assert_eq!(ds.raster_size(), (180, 89));
    assert_eq!(
        ds.geo_transform().unwrap(),
        [-181.0, 2.0, 0.0, 89.0, 0.0, -2.0]
    );
    assert_eq!(ds.spatial_ref().unwrap().auth_code().unwrap(), 4326);
    let b1 = ds.rasterband(1).unwrap();
    assert_eq!(b1.description().unwrap(), "2018-01 (lead 1 month)");
    assert!(b1.no_data_value().unwrap().is_nan());
    let px = b1
        .read_as::<f32>((0, 0), (180, 89), (180, 89), None)
        .unwrap();
    let k = cell(0.0, -170.0);
    assert_eq!(
        px.data()[k],
        fc.step(0)[k],
        "GeoTIFF and NetCDF hold the same values"
    );

    // A Cloud-Optimized GeoTIFF (GDAL's validator), bounds as before: 2-degree cells
    // centred on -180..178 and 88..-88, edges -181..179 and -89..89.
    let tif = dir.join("sst_forecast_2018.tif");
    validate_cog(&tif).unwrap_or_else(|r| panic!("not a valid COG:\n{r}"));
    let info = gdalinfo(&tif);
    assert!(info.contains("LAYOUT=COG"), "{info}");
    assert_eq!(gdal_corner(&info, "Upper Left"), (-181.0, 89.0));
    assert_eq!(gdal_corner(&info, "Lower Right"), (179.0, -89.0));
    assert_eq!(
        ds.metadata_item("boxes", "").as_deref(),
        Some("iceland-south, nino34, tasman")
    );

    // report.html: every figure embedded, the skill table, the provenance; and it works in a
    // real browser (images load, no error, no request, fits a phone, prints).
    let html = assert_report_embeds_every_figure(&dir);
    for want in [
        "Skill of the 2018 forecast",
        "<th class=\"r\">RMSE model</th>",
        "run key",
        "sstcast 0.",
        "name: small",
        "sst_forecast_2018.tif",
    ] {
        assert!(html.contains(want), "{want} missing from report.html");
    }
    assert_eq!(
        html.matches("<figure ").count(),
        10,
        "every figure of the run"
    );
    if let Some(r) = browser_check(&dir.join("report.html"), "forecast-2018") {
        r.unwrap_or_else(|e| panic!("report.html in a browser: {e}"));
    }

    // PNG: the heatmap, at its nominal size.
    let png = image::open(dir.join("sst_forecast_2018.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1400, 750));

    // CF compliance with the shared checker.
    if let Some(cf) = cfcheck() {
        let o = std::process::Command::new(cf).arg(&nc).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains("ERRORS detected: 0"),
            "{text}"
        );
    } else {
        eprintln!("cfcheck not found: CF check skipped");
    }
}

/// The 2018 forecast from files up to 2020 equals the one from files that end in 2017-12:
/// nothing at or after the forecast start can have been used.
#[test]
fn forecast_does_not_depend_on_data_from_the_forecast_year_on() {
    let Some(data) = ersst_monthly() else {
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let all = format!("{}/sst.mon.*.nc", data.display());
    let until_2017 = format!("{}/sst.mon.201[0-7].nc", data.display());
    let a = run(tmp.path(), &all, &tmp.path().join("a"));
    let b = run(tmp.path(), &until_2017, &tmp.path().join("b"));
    let fa = read_cube(&[a.join("sst_forecast_2018.nc")], None).unwrap();
    let fb = read_cube(&[b.join("sst_forecast_2018.nc")], None).unwrap();
    let same = fa
        .values
        .iter()
        .zip(&fb.values)
        .all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same, "forecasts differ when data from 2018 on are removed");
    // With observations of 2018 in the input the run verifies itself; without, it cannot.
    assert!(a.join("skill_2018.md").exists());
    assert!(!b.join("skill_2018.md").exists());
    let page = assert_report_embeds_every_figure(&b);
    assert!(!page.contains("Skill of the") && page.contains("no observations of 2018"));
    // Verifying the stored forecast later, once observations exist, gives the same table.
    let cfg = pipeline(
        tmp.path(),
        "small",
        &small_pipeline(&all, &tmp.path().join("b")),
    );
    let o = sstcast(
        tmp.path(),
        &["skill", "--config", cfg.to_str().unwrap(), "--year", "2018"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(a.join("skill_2018.md")).unwrap(),
        std::fs::read_to_string(b.join("skill_2018.md")).unwrap()
    );
    // Its page now has the table and every figure: the new ones and the stored forecast's.
    let page = assert_report_embeds_every_figure(&b);
    assert!(page.contains("Skill of the 2018 forecast"));
    assert_eq!(listing(&a), listing(&b));
}

#[test]
fn bad_config_and_missing_input_exit_with_documented_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = small_pipeline("nothing/here/*.nc", &out);
    let forecast = |cfg: &Path| {
        sstcast(
            tmp.path(),
            &[
                "forecast",
                "--config",
                cfg.to_str().unwrap(),
                "--year",
                "2018",
            ],
        )
    };
    let cfg = pipeline(tmp.path(), "typo", &good.replace("epochs: 4", "epoch: 4"));
    let o = forecast(&cfg);
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown field `epoch`"),
        "{}",
        stderr(&o)
    );
    let cfg = pipeline(tmp.path(), "noinput", &good);
    let o = forecast(&cfg);
    assert_eq!(o.status.code(), Some(66), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing/here/*.nc"), "{}", stderr(&o));
    assert!(!out.exists(), "a failed run creates no output");
    let o = sstcast(tmp.path(), &["forecast", "--year"]);
    assert_eq!(o.status.code(), Some(64));
}

/// Annual mode (the original project's setting): annual means of complete years in, years out.
#[test]
fn annual_mode_forecasts_years() {
    let Some(data) = ersst_monthly() else {
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let yaml = small_pipeline(&format!("{}/sst.mon.*.nc", data.display()), &out)
        .replace("temporal: monthly", "temporal: annual")
        .replace("window: 24, horizon: 12", "window: 4, horizon: 2")
        .replace("seed: 3}", "seed: 3, trend: global}")
        .replace("name: small", "name: annual");
    let cfg = pipeline(tmp.path(), "annual", &yaml);
    let o = sstcast(
        tmp.path(),
        &[
            "forecast",
            "--config",
            cfg.to_str().unwrap(),
            "--year",
            "2018",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let nc = netcdf::open(out.join("annual/2018/sst_forecast_2018.nc")).unwrap();
    let bnds: Vec<f64> = nc.variable("time_bnds").unwrap().get_values(..).unwrap();
    // 2018-01-01, 2019-01-01, 2019-01-01, 2020-01-01 in days since 1800-01-01.
    assert_eq!(bnds, vec![79_623.0, 79_988.0, 79_988.0, 80_353.0]);
    let sst: Vec<f32> = nc.variable("sst").unwrap().get_values(..).unwrap();
    let valid: Vec<f32> = sst.into_iter().filter(|&v| v < 1e19).collect();
    assert!(!valid.is_empty() && valid.iter().all(|v| (-2.0..32.0).contains(v)));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("| 1 | 2018 |") && stdout.contains("| 2 | 2019 |"),
        "{stdout}"
    );
    // `trend: global` works on annual steps too, and says what it fitted, in the log and in
    // the file's provenance.
    assert!(
        stderr(&o).contains("global-mean SST trend of the training period"),
        "{}",
        stderr(&o)
    );
    let source = match nc.attribute("source").and_then(|a| a.value().ok()) {
        Some(netcdf::AttributeValue::Str(s)) => s,
        other => panic!("source attribute: {other:?}"),
    };
    assert!(
        source.contains("correcting damped persistence about a climatology following the training period's global-mean trend")
            && source.contains("degC per decade"),
        "{source}"
    );
}

/// `input.first_year` drops the earlier steps before anything is fitted, and a first year
/// after the forecast's start is a data error (65) that says where the input now starts.
#[test]
fn first_year_cuts_the_record() {
    let Some(data) = ersst_monthly() else {
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = |first: i64| {
        let yaml = small_pipeline(&format!("{}/sst.mon.*.nc", data.display()), &out)
            .replace("temporal:", &format!("  first_year: {first}\ntemporal:"));
        let cfg = pipeline(tmp.path(), "cut", &yaml);
        let args = [
            "forecast",
            "--config",
            cfg.to_str().unwrap(),
            "--year",
            "2018",
        ];
        sstcast(tmp.path(), &args)
    };
    let o = run(2014);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("steps 2014-01.."), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("trained on 2014-01..2017-12"), "{stdout}");
    let o = run(2019);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert!(stderr(&o).contains("starts at 2019-01"), "{}", stderr(&o));
}
