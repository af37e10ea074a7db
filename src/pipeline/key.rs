//! The run key: which saved region results belong to this run.
//!
//! Fitting is the expensive stage, so every fitted region is saved ([`crate::ops::checkpoint`])
//! under `<out_dir>/.regions/<key>/`, and a rerun, a Slurm shard or `merge` reuses what is
//! there. The key is a hash of everything that determines a region's result: the pipeline's
//! `model`, `regions` and `temporal` sections, the input variable and first year, the input
//! files (path, size, modification time), the target year and sstcast's version. Change any
//! of them and the run uses a new key directory: stale results are never mixed in. The
//! thread count, shard, device and output directory are not part of it (they do not change
//! results).

use std::path::{Path, PathBuf};

use super::config::{ModelConfig, PipelineConfig, RegionsConfig};
use crate::hash::fnv1a;
use crate::time::Frequency;

/// What is hashed into the key of a run's results.
#[derive(Debug, serde::Serialize)]
struct KeyParts<'a> {
    /// sstcast version.
    version: &'a str,
    /// Target year.
    year: i64,
    /// `temporal` section.
    temporal: &'a Frequency,
    /// `model` section (including the seed).
    model: &'a ModelConfig,
    /// `regions` section.
    regions: &'a RegionsConfig,
    /// `input.variable`.
    variable: &'a Option<String>,
    /// `input.first_year`.
    first_year: &'a Option<i64>,
    /// Input files: (absolute path, size in bytes, mtime in ns since the epoch).
    inputs: Vec<(String, u64, u128)>,
    /// A hindcast's training end and starts (absent for a forecast, whose keys keep their
    /// earlier form).
    #[serde(skip_serializing_if = "Option::is_none")]
    hindcast: Option<&'a str>,
}

/// The key of the results of `pipeline` for `year` on `files`: 16 hex digits of FNV-1a over
/// the JSON of its parts (the format of earlier versions, so their results stay usable).
pub fn run_key(pipeline: &PipelineConfig, year: i64, files: &[PathBuf]) -> String {
    key_of(pipeline, year, files, None)
}

/// The key of one fit of a hindcast: `what` names its training end and its starts
/// (`year` is the year of its origin).
pub fn hindcast_key(pipeline: &PipelineConfig, year: i64, files: &[PathBuf], what: &str) -> String {
    key_of(pipeline, year, files, Some(what))
}

fn key_of(
    pipeline: &PipelineConfig,
    year: i64,
    files: &[PathBuf],
    hindcast: Option<&str>,
) -> String {
    let parts = KeyParts {
        version: env!("CARGO_PKG_VERSION"),
        year,
        temporal: &pipeline.temporal,
        model: &pipeline.model,
        regions: &pipeline.regions,
        variable: &pipeline.input.variable,
        first_year: &pipeline.input.first_year,
        inputs: files.iter().map(|f| file_identity(f)).collect(),
        hindcast,
    };
    let json = serde_json::to_string(&parts).expect("key parts serialise");
    format!("{:016x}", fnv1a(json.as_bytes()))
}

/// (absolute path, size, mtime ns) of `path`; unreadable metadata gives zeros (the reader
/// reports the file properly later).
fn file_identity(path: &Path) -> (String, u64, u128) {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let meta = std::fs::metadata(path).ok();
    let size = meta.as_ref().map_or(0, |m| m.len());
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (abs.display().to_string(), size, mtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "input: {files: x.nc}\ntemporal: monthly\nregions: {tiles: [5, 5]}\nmodel: {cell: gru, layers: 1, hidden: 4, window: 12, horizon: 12, epochs: 2, batch: 4, learning_rate: 0.01, seed: 1}\noutputs: {dir: out, formats: [netcdf]}\n";

    /// The key moves with what changes results (seed, year, an input's content) and not
    /// with what does not (the output directory).
    #[test]
    fn key_follows_what_determines_results() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x.nc");
        std::fs::write(&input, b"one").unwrap();
        let p = PipelineConfig::parse(YAML, Path::new("p.yaml")).unwrap();
        let files = vec![input.clone()];
        let k = run_key(&p, 2018, &files);
        assert_eq!(k.len(), 16);
        assert_eq!(k, run_key(&p, 2018, &files));
        assert_ne!(k, run_key(&p, 2019, &files));
        let mut q = p.clone();
        q.outputs.dir = "elsewhere".into();
        assert_eq!(k, run_key(&q, 2018, &files));
        q.model.seed = 2;
        assert_ne!(k, run_key(&q, 2018, &files));
        assert_ne!(k, hindcast_key(&p, 2018, &files, "train..2017-12"));
        assert_ne!(
            hindcast_key(&p, 2018, &files, "a"),
            hindcast_key(&p, 2018, &files, "b")
        );
        std::fs::write(&input, b"longer").unwrap();
        assert_ne!(k, run_key(&p, 2018, &files));
    }
}
