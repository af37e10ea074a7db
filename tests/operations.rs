//! Unattended operation through the real binary on real ERSST data (the small 3-box
//! pipeline): reruns skip finished regions, interrupted and killed runs resume and end with
//! the same outputs as an uninterrupted run, a held lock refuses a second run (75), and
//! shards merged give the outputs of a serial run. No timing is asserted: interruptions
//! happen at deterministic points (the `SSTCAST_STOP_AFTER` hook sends the process a real
//! SIGTERM after N saved regions) or, for `kill -9`, wherever they land.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;

const FINAL: [&str; 15] = FINAL_SMALL_2018;

/// A temporary directory with the small pipeline; runs differ only in `--out`.
struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cfg: PathBuf,
}

impl Setup {
    fn new() -> Option<Self> {
        let Some(data) = ersst_monthly() else {
            eprintln!("SKIPPED: ERSST grids not found (run `make grids`)");
            return None;
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let glob = format!("{}/sst.mon.*.nc", data.display());
        let cfg = pipeline(&dir, "small", &small_pipeline(&glob, &dir.join("unused")));
        Some(Self {
            _tmp: tmp,
            dir,
            cfg,
        })
    }

    fn command(&self, sub: &str, out: &str, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sstcast"));
        c.args([
            sub,
            "--config",
            self.cfg.to_str().unwrap(),
            "--year",
            "2018",
        ])
        .args(["--out", out, "--threads", "1"])
        .args(extra)
        .current_dir(&self.dir)
        .env("SSTCAST_LOG", "info")
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SSTCAST_STOP_AFTER");
        c
    }

    fn run(&self, sub: &str, out: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.command(sub, out, extra);
        c.envs(env.iter().copied());
        c.output().expect("run sstcast")
    }

    fn out(&self, out: &str) -> PathBuf {
        self.dir.join(out).join("small/2018")
    }

    /// The saved region results of the (single) key directory.
    /// Saved region results (and temporaries), without the weights files.
    fn saved(&self, out: &str) -> Vec<PathBuf> {
        self.saved_files(out)
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains(".bpk"))
            .collect()
    }

    /// Saved weights files: one per region and ensemble member.
    fn weights(&self, out: &str) -> Vec<PathBuf> {
        self.saved_files(out)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "bpk"))
            .collect()
    }

    fn saved_files(&self, out: &str) -> Vec<PathBuf> {
        let root = self.out(out).join(".regions");
        let mut v = Vec::new();
        for key in std::fs::read_dir(root).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(key.path()).unwrap().flatten() {
                v.push(f.path());
            }
        }
        v.sort();
        v
    }
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn rerun_skips_finished_regions_and_force_refits() {
    let Some(s) = Setup::new() else { return };
    let o = s.run("forecast", "a", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("3 in this run, 0 already fitted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(s.saved("a").len(), 3);
    assert_eq!(
        s.weights("a").len(),
        3,
        "one weights file per region (ensemble 1)"
    );
    let first = sst_bits(&s.out("a"));

    let o = s.run("forecast", "a", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("3 already fitted"), "{err}");
    assert!(err.contains(", 0 to fit"), "{err}");
    assert!(
        !err.contains("fitted nino34"),
        "no region was fitted again: {err}"
    );
    assert_eq!(sst_bits(&s.out("a")), first);

    let o = s.run("forecast", "a", &["--force"], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("0 already fitted"), "{err}");
    assert!(err.contains("fitted nino34"), "{err}");
    assert_eq!(
        sst_bits(&s.out("a")),
        first,
        "a refit gives the same forecast"
    );
    assert_eq!(
        listing(&s.out("a")),
        FINAL,
        "no lock or temporary file left"
    );
}

#[test]
fn interrupted_run_exits_75_and_resumes_to_identical_outputs() {
    let Some(s) = Setup::new() else { return };
    let o = s.run("forecast", "reference", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));

    // SIGTERM (sent by the hook) after the first saved region: that region is kept, the
    // others are not started, no final output is written, exit 75.
    let o = s.run("forecast", "b", &[], &[("SSTCAST_STOP_AFTER", "1")]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(75), "{err}");
    assert!(err.contains("interrupted by SIGTERM"), "{err}");
    assert!(err.contains("1 region(s) fitted and saved"), "{err}");
    assert!(err.contains("2 not started"), "{err}");
    assert!(
        listing(&s.out("b")).is_empty(),
        "{:?}",
        listing(&s.out("b"))
    );
    assert_eq!(s.saved("b").len(), 1);

    let o = s.run("forecast", "b", &[], &[]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(0), "{err}");
    assert!(err.contains("1 already fitted"), "{err}");
    assert!(err.contains("2 to fit"), "{err}");
    assert_same_outputs(&s.out("reference"), &s.out("b"));
}

#[test]
fn killed_run_resumes_to_identical_outputs() {
    let Some(s) = Setup::new() else { return };
    let o = s.run("forecast", "reference", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));

    // kill -9 as soon as the first region result is saved (or later: wherever it lands).
    let mut child = s
        .command("forecast", "k", &[])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let finished_alone = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if s.saved("k")
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "json"))
        {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    // Whatever was on disk at the kill: saved results are complete, and nothing is under a
    // final name unless the run had completed.
    for f in s.saved("k") {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temporary being written at the kill
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{} is not complete: {e}", f.display()));
        assert!(v["values"].as_array().is_some_and(|a| !a.is_empty()));
    }
    let lock_left = s.out("k").join(".sstcast.lock").exists();
    if finished_alone.is_none() {
        let left = listing(&s.out("k"));
        assert!(
            left.iter().all(|f| f.starts_with('.')) || left == FINAL,
            "partial outputs under final names: {left:?}"
        );
    }

    let o = s.run("forecast", "k", &[], &[]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(0), "{err}");
    if lock_left {
        assert!(err.contains("taking over stale lock"), "{err}");
    }
    assert_same_outputs(&s.out("reference"), &s.out("k"));
    assert!(
        s.saved("k")
            .iter()
            .all(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')),
        "temporaries of the killed run are cleaned up: {:?}",
        s.saved("k")
    );
}

#[test]
fn a_held_lock_refuses_a_second_run_naming_the_holder() {
    let Some(s) = Setup::new() else { return };
    let out = s.out("busy");
    std::fs::create_dir_all(&out).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    // This test process is alive: its pid holds the lock.
    let me = std::process::id();
    let lock = format!("pid={me}\nhost={host}\nstarted=2026-01-01T00:00:00Z\n");
    std::fs::write(out.join(".sstcast.lock"), &lock).unwrap();
    let o = s.run("forecast", "busy", &[], &[]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(75), "{err}");
    for w in [
        format!("pid {me}"),
        format!("host {host}"),
        "2026-01-01T00:00:00Z".to_string(),
    ] {
        assert!(err.contains(&w), "message lacks {w:?}: {err}");
    }
    assert!(!err.contains("fitting"), "refused before any work: {err}");
    assert_eq!(
        std::fs::read_to_string(out.join(".sstcast.lock")).unwrap(),
        lock,
        "the holder's lock is untouched"
    );
    assert_eq!(listing(&out), vec![".sstcast.lock"]);
    // merge and skill respect it too.
    for sub in ["merge", "skill"] {
        let o = s.run(sub, "busy", &[], &[]);
        assert_eq!(code(&o), Some(75), "{sub}: {}", stderr(&o));
    }
}

#[test]
fn shards_then_merge_equal_a_serial_run() {
    let Some(s) = Setup::new() else { return };
    let o = s.run("forecast", "serial", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));

    let n = 4;
    let owner = sstcast::ops::shard::Shard::of_region("nino34", n);
    // Every shard but nino34's; one through the Slurm array variables (--array=1-4).
    for i in (0..n).filter(|&i| i != owner) {
        let o = if i == 0 {
            let id = (i + 1).to_string();
            s.run(
                "forecast",
                "sharded",
                &[],
                &[
                    ("SLURM_ARRAY_TASK_ID", id.as_str()),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                ],
            )
        } else {
            s.run(
                "forecast",
                "sharded",
                &["--shard", &format!("{i}/{n}")],
                &[],
            )
        };
        let err = stderr(&o);
        assert_eq!(code(&o), Some(0), "shard {i}: {err}");
        assert!(err.contains(&format!("shard {i}/{n}")), "{err}");
    }
    assert!(
        listing(&s.out("sharded")).is_empty(),
        "shards write no final outputs"
    );
    let o = s.run("merge", "sharded", &[], &[]);
    let err = stderr(&o);
    assert_eq!(code(&o), Some(66), "{err}");
    assert!(err.contains("nino34"), "{err}");
    assert!(err.contains(&format!("shard(s) {owner}/{n}")), "{err}");
    assert!(listing(&s.out("sharded")).is_empty());

    let o = s.run(
        "forecast",
        "sharded",
        &["--shard", &format!("{owner}/{n}")],
        &[],
    );
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    let o = s.run("merge", "sharded", &[], &[]);
    assert_eq!(code(&o), Some(0), "{}", stderr(&o));
    assert_same_outputs(&s.out("serial"), &s.out("sharded"));

    let o = s.run("merge", "sharded", &["--shard", "0/2"], &[]);
    assert_eq!(code(&o), Some(78), "{}", stderr(&o));
}

#[test]
fn device_choice_is_checked() {
    let Some(s) = Setup::new() else { return };
    let o = s.run("forecast", "dev", &["--device", "tpu"], &[]);
    assert_eq!(code(&o), Some(64), "{}", stderr(&o));
    if !cfg!(feature = "tch") {
        let o = s.run("forecast", "dev", &["--device", "cuda:0"], &[]);
        assert_eq!(code(&o), Some(64), "{}", stderr(&o));
        assert!(stderr(&o).contains("--features tch"), "{}", stderr(&o));
    }
}

/// Logs piped into a reader that goes away (`sstcast ... 2>&1 | head`, a log collector that
/// died) do not end the run: it completes, writes its outputs and exits 0.
#[test]
fn a_closed_log_pipe_does_not_end_the_run() {
    let Some(s) = Setup::new() else { return };
    let mut c = s.command("forecast", "closed", &["--log-format", "json"]);
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn sstcast");
    // Read one log line, then close the pipe while the run goes on.
    let mut stderr = child.stderr.take().unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stderr, &mut first).unwrap();
    drop(stderr);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let names = listing(&s.out("closed"));
    for f in FINAL {
        assert!(names.iter().any(|n| n == f), "{f} missing from {names:?}");
    }
}
