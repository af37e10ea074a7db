//! One run per output directory.
//!
//! Two cron runs (a slow one still going when the next month's starts), or a user's manual
//! run on top of a scheduled one, must never write the same outputs. A run therefore creates
//! `<out_dir>/<name>` with `O_CREAT | O_EXCL` before it reads anything, writes its pid, host
//! and start time into it, and removes it when it ends (the guard's `Drop`). A second run
//! finds the file and stops with exit 75 (temporary failure), naming the holder.
//!
//! A lock left by a process that no longer exists on this host (`kill -9`, a node crash, an
//! OOM kill) is stale: it is taken over with a warning so that the next cron run continues
//! on its own. A lock from another host cannot be checked and is always respected (the
//! message says so: remove it by hand once that run is known to be dead).
//!
//! Slurm array tasks write disjoint region results into the same directory at the same time;
//! each takes its own lock name (`.sstcast-shard-I-of-N.lock`), and `merge` the main one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The main lock file name in an output directory.
pub const LOCK_NAME: &str = ".sstcast.lock";

/// Who holds a lock, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// Start time (UTC, ISO 8601).
    pub started: String,
}

impl Holder {
    fn to_text(&self) -> String {
        format!(
            "pid={}\nhost={}\nstarted={}\n",
            self.pid, self.host, self.started
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut pid = None;
        let mut host = None;
        let mut started = String::new();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("host", v)) => host = Some(v.trim().to_string()),
                Some(("started", v)) => started = v.trim().to_string(),
                _ => {}
            }
        }
        Some(Self {
            pid: pid?,
            host: host?,
            started,
        })
    }
}

/// Why a lock cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live run holds the lock.
    #[error("another sstcast run holds {path}: pid {} on host {} since {}; retry when it has finished{}", holder.pid, holder.host, holder.started, if *other_host { " (the holder is on another host and cannot be checked from here: remove the lock file by hand once that run is known to be dead)" } else { "" })]
    Held {
        /// The lock file.
        path: PathBuf,
        /// Its holder.
        holder: Holder,
        /// The holder runs on another host.
        other_host: bool,
    },
    /// The lock file exists but does not say who holds it.
    #[error("lock file {path} exists but is not an sstcast lock (no pid/host); remove it if no sstcast run is using this directory")]
    Unreadable {
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file cannot be created or written.
    #[error("cannot create lock file {path}: {source}")]
    Create {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    /// A lock held by another run is temporary (retry later); one that cannot be created is not.
    pub fn class(&self) -> crate::error_class::ErrorClass {
        use crate::error_class::ErrorClass;
        match self {
            Self::Held { .. } | Self::Unreadable { .. } => ErrorClass::TempFail,
            Self::Create { .. } => ErrorClass::CannotCreate,
        }
    }
}

/// A held lock; removed on drop.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock `dir/name` (the directory must exist), taking over a stale one.
    pub fn acquire(dir: &Path, name: &str) -> Result<Self, LockError> {
        let path = dir.join(name);
        let me = Holder {
            pid: std::process::id(),
            host: crate::sys::hostname(),
            started: crate::time::now_utc(),
        };
        // Two attempts: the second after removing a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let written = f
                        .write_all(me.to_text().as_bytes())
                        .and_then(|()| f.sync_all());
                    if let Err(source) = written {
                        let _ = std::fs::remove_file(&path);
                        return Err(LockError::Create { path, source });
                    }
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = match std::fs::read_to_string(&path) {
                        Ok(t) => t,
                        // Released between our open and our read: try again.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(source) => return Err(LockError::Create { path, source }),
                    };
                    let Some(holder) = Holder::parse(&text) else {
                        return Err(LockError::Unreadable { path });
                    };
                    let other_host = holder.host != me.host;
                    if other_host || crate::sys::pid_alive(holder.pid) {
                        return Err(LockError::Held {
                            path,
                            holder,
                            other_host,
                        });
                    }
                    tracing::warn!(
                        "taking over stale lock {}: its holder (pid {} on {}, since {}) is no longer running",
                        path.display(),
                        holder.pid,
                        holder.host,
                        holder.started
                    );
                    // Remove only the stale content we judged (a racing run may have
                    // replaced it in between; then the next create_new fails and reports it).
                    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Err(source) => return Err(LockError::Create { path, source }),
            }
        }
        // Still there after a takeover: someone else took it in between.
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        match Holder::parse(&text) {
            Some(holder) => Err(LockError::Held {
                other_host: holder.host != crate::sys::hostname(),
                path,
                holder,
            }),
            None => Err(LockError::Unreadable { path }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_stale_and_released_locks() {
        let dir = tempfile::tempdir().unwrap();
        let a = OutputLock::acquire(dir.path(), LOCK_NAME).unwrap();
        // Held by a live process (us): refused, naming pid and host.
        let e = OutputLock::acquire(dir.path(), LOCK_NAME).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, LockError::Held { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains(&crate::sys::hostname()), "{msg}");
        drop(a);
        assert!(!dir.path().join(LOCK_NAME).exists());
        // Stale: a pid that cannot exist on this host is taken over.
        std::fs::write(
            dir.path().join(LOCK_NAME),
            format!("pid=4294967\nhost={}\nstarted=x\n", crate::sys::hostname()),
        )
        .unwrap();
        let b = OutputLock::acquire(dir.path(), LOCK_NAME).unwrap();
        let text = std::fs::read_to_string(b.path()).unwrap();
        assert!(
            text.contains(&format!("pid={}", std::process::id())),
            "{text}"
        );
        drop(b);
        // Another host: respected even with a dead-looking pid.
        std::fs::write(
            dir.path().join(LOCK_NAME),
            "pid=4294967\nhost=some-other-node\nstarted=x\n",
        )
        .unwrap();
        let e = OutputLock::acquire(dir.path(), LOCK_NAME).unwrap_err();
        assert!(e.to_string().contains("some-other-node"), "{e}");
        // Garbage: not taken over.
        std::fs::write(dir.path().join(LOCK_NAME), "hello").unwrap();
        assert!(matches!(
            OutputLock::acquire(dir.path(), LOCK_NAME),
            Err(LockError::Unreadable { .. })
        ));
    }
}
