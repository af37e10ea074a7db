//! The one sweep of what killed runs leave behind.
//!
//! A process killed between writing and renaming (`kill -9`, a node crash, the OOM killer)
//! cannot clean up: it leaves temporary files `.NAME.tmp-PID-N` ([`super::atomic`]) and
//! staging directories `.sstcast-staging-PID-N` ([`super::staging`]). Both names carry the
//! writer's pid, so a later run holding the directory's lock removes those whose process no
//! longer runs on this host. Those of live processes (other Slurm tasks writing into the same
//! results directory right now) are left alone.

use std::path::Path;

/// The pid of a writer encoded in `name`, for the two kinds of leftovers; `None` otherwise.
fn writer_pid(name: &str) -> Option<(u32, bool)> {
    if let Some(rest) = name.strip_prefix(".sstcast-staging-") {
        let pid = rest.split('-').next()?.parse().ok()?;
        return Some((pid, true));
    }
    if !name.starts_with('.') {
        return None;
    }
    let (_, rest) = name.rsplit_once(".tmp-")?;
    let pid = rest.split('-').next()?.parse().ok()?;
    Some((pid, false))
}

/// Removes, directly inside `dir`, the temporary files and staging directories of processes
/// that no longer run. Best effort: what cannot be read or removed is left.
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((pid, staging)) = writer_pid(&name) else {
            continue;
        };
        if crate::sys::pid_alive(pid) {
            continue;
        }
        if staging {
            tracing::info!("removing {} left by a killed run", e.path().display());
            let _ = std::fs::remove_dir_all(e.path());
        } else {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_leftovers_of_dead_processes_only() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let dead = 4_294_967u32; // above any pid_max
        let d = dir.path();
        std::fs::create_dir(d.join(format!(".sstcast-staging-{dead}-0"))).unwrap();
        std::fs::create_dir(d.join(format!(".sstcast-staging-{me}-0"))).unwrap();
        for name in [
            format!(".a.json.tmp-{dead}-3"),
            format!(".a.json.tmp-{me}-3"),
            format!("b.tmp-{dead}-1"), // not hidden: not ours
            "keep.nc".to_string(),
        ] {
            std::fs::write(d.join(name), b"x").unwrap();
        }
        remove_stale(d);
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = vec![
            format!(".a.json.tmp-{me}-3"),
            format!(".sstcast-staging-{me}-0"),
            format!("b.tmp-{dead}-1"),
            "keep.nc".to_string(),
        ];
        want.sort();
        assert_eq!(left, want);
    }
}
