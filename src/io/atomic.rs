//! Atomic file writes: a file under a final name is always complete.
//!
//! Every writer of sstcast goes through [`TempFile`]: the file is produced under a hidden
//! temporary name (`.<name>.tmp-<pid>-<n>`) in the destination directory and renamed onto its
//! final name only once it is complete and flushed. A crash, a full disk or a bad value
//! therefore never leaves a partial file under a final name, and a previous good output stays
//! in place until the new one is ready (rename is atomic within one filesystem). Temporaries
//! of killed processes are removed by [`super::sweep`].

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
    /// are synced in bulk (`crate::ops::checkpoint::RegionStore::sync`).
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
}
