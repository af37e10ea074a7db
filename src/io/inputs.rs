//! Which files a run reads: the pipeline's `input.files` (or `--input`) patterns expanded.
//!
//! A pattern is a file, a directory (every `*.nc`/`*.nc4` inside it) or a glob. The list is
//! sorted and de-duplicated, so the same files in the same order make the same cube and the
//! same run key wherever the pattern came from. A plain path that does not exist is kept: the
//! reader reports it, naming it.

use std::path::PathBuf;

use crate::error_class::ErrorClass;

/// Why the input patterns give no file list.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// No file matched a pattern (or a directory holds no NetCDF file).
    #[error("no input file matches {pattern:?}")]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A directory named as input cannot be listed.
    #[error("cannot list input directory {path}: {source}")]
    ListDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// A missing input (exit 66); an unreadable directory is an I/O error (74).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::NoMatch { .. } => ErrorClass::NoInput,
            Self::ListDir { .. } => ErrorClass::Io,
        }
    }
}

/// Expands the input patterns (paths, directories or globs) into a sorted, de-duplicated
/// file list.
pub fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in patterns {
        let no_match = || InputError::NoMatch { pattern: p.clone() };
        if !p.contains(['*', '?', '[']) {
            let path = PathBuf::from(p);
            if path.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
                    .map_err(|source| InputError::ListDir {
                        path: path.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == "nc" || x == "nc4"))
                    .collect();
                if found.is_empty() {
                    return Err(no_match());
                }
                out.append(&mut found);
            } else {
                // A plain path that does not exist is reported by the reader, naming it.
                out.push(path);
            }
            continue;
        }
        let matches: Vec<PathBuf> = glob::glob(p)
            .map_err(|_| no_match())?
            .filter_map(Result::ok)
            .collect();
        if matches.is_empty() {
            return Err(no_match());
        }
        out.extend(matches);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_globs_and_plain_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["b.nc", "a.nc", "c.nc4", "notes.txt"] {
            std::fs::write(d.join(f), b"").unwrap();
        }
        let s = |p: &std::path::Path| p.display().to_string();
        let got = expand(&[s(d), s(&d.join("a.nc"))]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.nc", "b.nc", "c.nc4"]);
        assert_eq!(expand(&[s(&d.join("*.nc"))]).unwrap().len(), 2);
        assert_eq!(expand(&[s(&d.join("missing.nc"))]).unwrap().len(), 1);
        let e = expand(&[s(&d.join("*.grib"))]).unwrap_err();
        assert_eq!(e.class(), ErrorClass::NoInput);
    }
}
