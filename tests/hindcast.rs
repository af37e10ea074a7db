//! `sstcast hindcast` through the real binary on real ERSST data (the small 3-box pipeline):
//! the outputs appear, `hindcast.nc` passes the CF checker, a rerun loads every fit instead
//! of refitting, yearly refits make one fit per year, and a bad request is a config error
//! naming the flag.

mod common;

use common::*;

const FILES: [&str; 8] = [
    "hindcast.json",
    "hindcast.md",
    "hindcast.nc",
    "hindcast_acc.png",
    "hindcast_nino34.png",
    "hindcast_rmse.png",
    "hindcast_skill_map.png",
    "report.html",
];

#[test]
fn hindcast_writes_verified_outputs_and_resumes() {
    let Some(data) = ersst_monthly() else {
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let glob = format!("{}/sst.mon.*.nc", data.display());
    let cfg = pipeline(dir, "small", &small_pipeline(&glob, &dir.join("out")));
    let cfg = cfg.to_str().unwrap();
    let args = [
        "hindcast",
        "--config",
        cfg,
        "--train-end",
        "2015-12",
        "--starts",
        "2016-03..2017-12",
        "--every",
        "3",
        "--threads",
        "2",
    ];
    let o = sstcast(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("out/small/hindcast_2016-03_2017-12");
    let names = listing(&out);
    for f in FILES {
        assert!(names.contains(&f.to_string()), "{f} missing: {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.contains(".tmp") || n.contains("staging")),
        "{names:?}"
    );
    let md = std::fs::read_to_string(out.join("hindcast.md")).unwrap();
    for method in ["model", "damped", "LIM"] {
        assert!(
            md.to_lowercase().contains(&method.to_lowercase()),
            "{method}: {md}"
        );
    }
    // The gate's outcome and the Niño 3.4 index table (the pipeline has the nino34 box).
    assert!(
        md.contains("Trained weights kept by the validation gate"),
        "{md}"
    );
    assert!(
        md.contains("Index `nino34`") && md.contains("| lead 6 |"),
        "{md}"
    );
    let html = assert_report_embeds_every_figure(&out);
    assert!(html.contains("Skill over the starts") && html.contains("fit 1: training, run key"));
    assert!(html.contains("<td>mean</td>"), "the table's rows");
    if let Some(r) = browser_check(&out.join("report.html"), "hindcast") {
        r.unwrap_or_else(|e| panic!("report.html in a browser: {e}"));
    }
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("RMSE"), "the table is printed: {table}");
    if let Some(cf) = cfcheck() {
        let c = std::process::Command::new(cf)
            .arg(out.join("hindcast.nc"))
            .output()
            .unwrap();
        assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stdout));
    }
    // A rerun fits nothing: every region comes from the saved results.
    let again = sstcast(dir, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("(0 fitted, 3 loaded)"),
        "{}",
        stderr(&again)
    );
    // Yearly refits: one fit for 2016 (training to 2015-12), one for 2017 (training up to its
    // first start, 2017-03).
    let mut yearly = args.to_vec();
    yearly.extend(["--refit", "yearly"]);
    let y = sstcast(dir, &yearly);
    assert!(y.status.success(), "{}", stderr(&y));
    assert!(stderr(&y).contains("2 fit(s)"), "{}", stderr(&y));
    assert!(
        stderr(&y).contains("training steps before 2017-03"),
        "{}",
        stderr(&y)
    );
}

#[test]
fn a_start_before_the_training_end_is_a_config_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = pipeline(dir, "small", &small_pipeline("x.nc", &dir.join("out")));
    let o = sstcast(
        dir,
        &[
            "hindcast",
            "--config",
            cfg.to_str().unwrap(),
            "--train-end",
            "2016-06",
            "--starts",
            "2016-01..2017-01",
        ],
    );
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(stderr(&o).contains("--starts"), "{}", stderr(&o));
    assert!(!dir.join("out").exists(), "no output for a refused request");
}
