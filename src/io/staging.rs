//! The outputs of one run, written together or not at all ([`Staging`]).
//!
//! A run writes several files (NetCDF, GeoTIFF, PNGs, skill tables). Each is written through
//! its own temporary file into a hidden staging directory `.sstcast-staging-<pid>-<n>` inside
//! the destination, and all are renamed onto their final names only when every one is
//! complete. Staging directories of killed runs are removed by [`super::sweep`].

use std::path::{Path, PathBuf};

use crate::error_class::ErrorClass;

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
    /// A full disk or quota is an I/O failure (exit 74); anything else, an output that
    /// cannot be created (73).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::CreateDir { source, .. }
            | Self::NotWritable { source, .. }
            | Self::Commit { source, .. } => ErrorClass::of_write(source, ErrorClass::CannotCreate),
            Self::ReadOnly { .. } | Self::NotAFile { .. } => ErrorClass::CannotCreate,
        }
    }
}

/// The outputs of one run, written together or not at all.
///
/// [`Staging::prepare`] runs **before** the expensive part of a run (fitting), so an
/// unwritable directory or a protected earlier output fails in seconds, not after an hour of
/// training. Every output is then written (each through its own [`super::atomic::TempFile`]) into a hidden
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

#[cfg(test)]
mod tests {
    use super::*;

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
