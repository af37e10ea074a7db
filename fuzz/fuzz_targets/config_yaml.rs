//! Fuzz target: the pipeline YAML parser and validator.
//!
//! Any byte string is fed to [`PipelineConfig::parse`] and, when it parses, to
//! [`PipelineConfig::validate`]. Both must return `Ok` or a `ConfigError`, never panic, and
//! every error message must name the file it is about (the contract the CLI relies on for
//! exit code 78 with a useful message).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sstcast::pipeline::PipelineConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz-pipeline.yaml");
    match PipelineConfig::parse(text, path) {
        Ok(cfg) => {
            if let Err(e) = cfg.validate(path) {
                assert!(e.to_string().contains("fuzz-pipeline.yaml"), "{e}");
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz-pipeline.yaml"), "{e}"),
    }
});
