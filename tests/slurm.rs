//! Slurm job arrays on a real Slurm: `pipelines/slurm/submit` (what `make slurm` runs)
//! submits a 4-task array of `sstcast forecast` shards and the afterok merge job over the
//! small 3-box pipeline; the merged outputs must equal a serial run's. A second submission
//! whose tasks fail must make `submit` fail (the merge job is cancelled, not "successful").
//!
//! Needs a running Slurm (`SLURM_CONF` set), e.g. `../shared/tools/slurm-local run -- cargo
//! test --test slurm` (`make test-slurm`, and in `.ci/run`). Without one the test prints why
//! it skips and passes, unless `SSTCAST_REQUIRE_SLURM=1` (CI), where it fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

#[test]
fn slurm_array_and_merge_equal_a_serial_run() {
    if std::env::var_os("SLURM_CONF").is_none() {
        let msg = "SLURM_CONF is not set: no Slurm to submit to (run under ../shared/tools/slurm-local run -- cargo test --test slurm, or `make test-slurm`)";
        assert!(
            std::env::var_os("SSTCAST_REQUIRE_SLURM").is_none(),
            "SSTCAST_REQUIRE_SLURM is set but {msg}"
        );
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let Some(data) = ersst_monthly() else {
        assert!(
            std::env::var_os("SSTCAST_REQUIRE_SLURM").is_none(),
            "no ERSST grids"
        );
        eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
        return;
    };
    let t0 = std::time::Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let glob = format!("{}/sst.mon.*.nc", data.display());
    let cfg = pipeline(dir, "small", &small_pipeline(&glob, &dir.join("unused")));
    let cfg = cfg.to_str().unwrap();

    let serial = dir.join("serial");
    let o = sstcast(
        dir,
        &[
            "forecast",
            "--config",
            cfg,
            "--year",
            "2018",
            "--threads",
            "1",
            "--out",
            serial.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "serial run: {}", stderr(&o));

    let sharded = dir.join("slurm");
    let args = format!("--out {}", sharded.display());
    let o = submit(dir, cfg, &args);
    assert!(o.status.success(), "slurm run failed:\n{}", text(&o));
    assert!(text(&o).contains("1 COMPLETED"), "{}", text(&o));
    // Every task ran as its own shard (the logs are in the submission directory).
    let logs: Vec<String> = listing(dir)
        .into_iter()
        .filter(|f| f.starts_with("slurm-sstcast-") && !f.contains("merge"))
        .collect();
    assert_eq!(logs.len(), 4, "{logs:?}");
    for i in 0..4 {
        let found = logs.iter().any(|f| {
            std::fs::read_to_string(dir.join(f))
                .unwrap()
                .contains(&format!("shard {i}/4"))
        });
        assert!(found, "no task log mentions shard {i}/4");
    }
    assert_same_outputs(&serial.join("small/2018"), &sharded.join("small/2018"));

    // Failing tasks (an unknown flag: exit 64): the merge job is cancelled and submit fails.
    let o = submit(dir, cfg, "--no-such-flag");
    assert!(!o.status.success(), "submit must fail:\n{}", text(&o));
    assert!(text(&o).contains("did not complete"), "{}", text(&o));
    eprintln!(
        "slurm test: array + merge and the failing case in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// Runs `pipelines/slurm/submit 2018 4` from `dir` with the debug binary.
fn submit(dir: &Path, cfg: &str, sstcast_args: &str) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(root.join("pipelines/slurm/submit"))
        .args(["2018", "4"])
        .current_dir(dir)
        .env("SSTCAST", env!("CARGO_BIN_EXE_sstcast"))
        .env("PIPELINE", cfg)
        .env("SSTCAST_ARGS", sstcast_args)
        .env("POLL_SECONDS", "0.5")
        .env("SLURM_WAIT_SECONDS", "600")
        .env("SSTCAST_LOG", "info")
        .output()
        .expect("run pipelines/slurm/submit")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
