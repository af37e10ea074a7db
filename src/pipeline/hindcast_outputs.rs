//! The outputs of a hindcast: the verification over the starts ([`crate::verify::starts`]),
//! its tables, `hindcast.nc` and the figures, staged together and renamed into place at the
//! end ([`crate::io::staging`]), like a forecast's.

use std::path::{Path, PathBuf};

use super::hindcast::Hindcast;
use super::PipelineError;
use crate::io::staging::Staging;
use crate::verify::starts::{verify_starts, BootstrapSettings, HindcastReport, StartsInput};
use crate::verify::References;

/// Every file a hindcast writes.
pub const FILES: [&str; 7] = [
    "hindcast.nc",
    "hindcast.md",
    "hindcast.json",
    "hindcast_rmse.png",
    "hindcast_acc.png",
    "hindcast_skill_map.png",
    "hindcast_nino34.png",
];

/// Checks that the outputs can be written into `dir` and opens the staging area.
pub fn prepare(dir: &Path) -> Result<Staging, PipelineError> {
    let names: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    Ok(Staging::prepare(dir, &names)?)
}

/// Verifies every start of `hc` against the observations, with references fitted on each
/// fit's training steps.
pub fn verify(hc: &Hindcast) -> HindcastReport {
    let first = &hc.sessions[0];
    let cube = &first.cube;
    let horizon = hc.mean.first().map_or(0, |f| f.horizon);
    let refs: Vec<References> = hc
        .sessions
        .iter()
        .map(|s| References::fit(&s.cube, s.steps, horizon))
        .collect();
    let per_start: Vec<&References> = hc.fit_of_start.iter().map(|&g| &refs[g]).collect();
    let starts: Vec<usize> = hc
        .starts
        .iter()
        .map(|s| (s.0 - cube.start.0) as usize)
        .collect();
    let flat = |fs: &[crate::forecast::Forecast]| -> Vec<f32> {
        fs.iter().flat_map(|f| f.values.iter().copied()).collect()
    };
    let mean = flat(&hc.mean);
    let members: Vec<Vec<f32>> = hc.members.iter().map(|m| flat(m)).collect();
    let weights = cube.grid.area_weights();
    let input = StartsInput {
        cube,
        references: &per_start,
        starts: &starts,
        horizon,
        regions: &first.regions,
        weights: &weights,
        mean: &mean,
        members: &members,
    };
    verify_starts(&input, BootstrapSettings::default())
}

/// Writes the tables (and what else is ready) into `stage`; returns the Markdown table.
pub fn write(
    stage: &mut Staging,
    dir: &Path,
    report: &HindcastReport,
) -> Result<String, PipelineError> {
    let table = report.to_markdown();
    write_file(stage, dir, "hindcast.md", table.as_bytes())?;
    write_file(stage, dir, "hindcast.json", report.to_json().as_bytes())?;
    Ok(table)
}

fn write_file(
    stage: &mut Staging,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<PathBuf, PipelineError> {
    let path = stage.file(name);
    crate::io::atomic::write_atomic(&path, bytes).map_err(|source| PipelineError::Output {
        path: dir.join(name),
        source,
    })?;
    Ok(path)
}
