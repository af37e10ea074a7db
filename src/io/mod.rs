//! File formats: reading CF NetCDF input, writing CF NetCDF and GeoTIFF forecasts.
//!
//! Every writer goes through [`TempFile`]: the file is produced under a hidden temporary
//! name in the destination directory and renamed onto its final name only once it is
//! complete and flushed. A crash, a full disk or a bad value therefore never leaves a
//! partial file under a final name, and a previous good output stays in place until the
//! new one is ready (rename is atomic within one filesystem). [`Staging`] extends this to
//! the set of files of one run: all are written, then all are renamed, or none is.

pub mod geotiff;
pub mod netcdf;

use std::path::{Path, PathBuf};

/// A temporary sibling of a final output path, removed on drop unless committed.
#[derive(Debug)]
pub struct TempFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl TempFile {
    /// Reserves a temporary name next to `dest` (`.<name>.tmp-<pid>-<n>`); creates nothing yet.
    pub fn new(dest: &Path) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = dest
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dest.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()));
        Self {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes the temporary file to disk and renames it onto the final path.
    pub fn commit(self) -> std::io::Result<()> {
        std::fs::File::open(&self.tmp)?.sync_all()?;
        self.commit_unsynced()
    }

    /// Renames the temporary file onto the final path without flushing it first: the file
    /// under its final name is complete for every reader (and survives the writer being
    /// killed), but a power loss may lose it. For caches that validate what they read and
    /// are synced in bulk ([`crate::checkpoint::RegionStore::sync`]).
    pub fn commit_unsynced(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, &self.dest)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Why the outputs of a run cannot be staged or put in place.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output directory cannot be created.
    #[error("cannot create output directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Nothing can be written in the output directory.
    #[error("output directory {path} is not writable: {source}")]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An earlier output under a final name is read-only: sstcast does not replace it.
    #[error("output file {path} exists and is read-only; sstcast does not replace a protected file: remove it or make it writable (chmod u+w) to let the run replace it")]
    ReadOnly {
        /// The existing file.
        path: PathBuf,
    },
    /// A final output name is taken by something that is not a regular file.
    #[error("output path {path} exists and is not a regular file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// Moving a finished file onto its final name failed.
    #[error("cannot move the finished output onto {path}: {source}")]
    Commit {
        /// The final path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl OutputError {
    /// Whether the underlying failure is a full disk or quota (exit 74 rather than 73).
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::CreateDir { source, .. }
            | Self::NotWritable { source, .. }
            | Self::Commit { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            Self::ReadOnly { .. } | Self::NotAFile { .. } => false,
        }
    }
}

/// The outputs of one run, written together or not at all.
///
/// [`Staging::prepare`] runs **before** the expensive part of a run (fitting), so an
/// unwritable directory or a protected earlier output fails in seconds, not after an hour of
/// training. Every output is then written (each through its own [`TempFile`]) into a hidden
/// staging directory inside the destination, and [`Staging::commit`] renames them onto their
/// final names only once all of them are complete. A run that fails at any point (a full
/// disk while writing the third file) therefore leaves no file under a final name and every
/// earlier output untouched; dropping an uncommitted `Staging` removes the staging directory.
///
/// An existing output that is read-only (mode without any write bit) is refused rather than
/// replaced: someone protected it, and a rename would replace it silently even though the
/// file itself cannot be written (and root ignores the mode bits anyway).
#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    dir: PathBuf,
    staged: Vec<String>,
    committed: bool,
}

impl Staging {
    /// Creates `dest` if needed, checks that the final `names` can be replaced, and creates
    /// the staging directory. Creates no file under a final name.
    pub fn prepare(dest: &Path, names: &[String]) -> Result<Self, OutputError> {
        std::fs::create_dir_all(dest).map_err(|source| OutputError::CreateDir {
            path: dest.to_path_buf(),
            source,
        })?;
        for name in names {
            let path = dest.join(name);
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if !meta.is_file() {
                    return Err(OutputError::NotAFile { path });
                }
                if meta.permissions().readonly() {
                    return Err(OutputError::ReadOnly { path });
                }
            }
        }
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = dest.join(format!(".sstcast-staging-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|source| OutputError::NotWritable {
            path: dest.to_path_buf(),
            source,
        })?;
        Ok(Self {
            dest: dest.to_path_buf(),
            dir,
            staged: Vec::new(),
            committed: false,
        })
    }

    /// Where to write the output that will be called `name`.
    pub fn file(&mut self, name: &str) -> PathBuf {
        self.staged.push(name.to_string());
        self.dir.join(name)
    }

    /// Moves every staged file that was written onto its final name; returns the final paths.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, OutputError> {
        let mut out = Vec::with_capacity(self.staged.len());
        for name in &self.staged {
            let from = self.dir.join(name);
            if !from.exists() {
                continue;
            }
            let to = self.dest.join(name);
            std::fs::rename(&from, &to).map_err(|source| OutputError::Commit {
                path: to.clone(),
                source,
            })?;
            out.push(to);
        }
        self.committed = true;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(out)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes `bytes` to `dest` atomically (temporary file, fsync, rename).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = TempFile::new(dest);
    std::fs::write(tmp.path(), bytes)?;
    tmp.commit()
}

/// [`write_atomic`] without the flush to disk ([`TempFile::commit_unsynced`]).
pub fn write_atomic_unsynced(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = TempFile::new(dest);
    std::fs::write(tmp.path(), bytes)?;
    tmp.commit_unsynced()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_temp_is_removed_and_dest_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        std::fs::write(&dest, b"old").unwrap();
        {
            let t = TempFile::new(&dest);
            std::fs::write(t.path(), b"partial").unwrap();
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn staging_commits_all_or_nothing_and_refuses_read_only_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out/2018");
        let names = vec!["a.nc".to_string(), "b.png".to_string()];
        // Failure: nothing under a final name, staging removed.
        {
            let mut s = Staging::prepare(&dest, &names).unwrap();
            std::fs::write(s.file("a.nc"), b"complete").unwrap();
            let _ = s.file("b.png"); // the writer failed
        }
        assert!(listing(&dest).is_empty(), "{:?}", listing(&dest));
        // Success: both files, nothing else.
        let mut s = Staging::prepare(&dest, &names).unwrap();
        std::fs::write(s.file("a.nc"), b"new a").unwrap();
        std::fs::write(s.file("b.png"), b"new b").unwrap();
        let done = s.commit().unwrap();
        assert_eq!(done, vec![dest.join("a.nc"), dest.join("b.png")]);
        assert_eq!(listing(&dest), vec!["a.nc", "b.png"]);
        // A read-only earlier output is refused up front and stays as it was.
        let mut perm = std::fs::metadata(dest.join("a.nc")).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(dest.join("a.nc"), perm).unwrap();
        let e = Staging::prepare(&dest, &names).unwrap_err();
        assert!(matches!(e, OutputError::ReadOnly { .. }), "{e}");
        assert!(e.to_string().contains("a.nc"), "{e}");
        assert_eq!(std::fs::read(dest.join("a.nc")).unwrap(), b"new a");
        assert_eq!(listing(&dest), vec!["a.nc", "b.png"]);
    }

    fn listing(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}
