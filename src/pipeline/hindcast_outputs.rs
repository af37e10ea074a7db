//! The outputs of a hindcast: the verification over the starts ([`crate::verify::starts`]),
//! its tables, `hindcast.nc` and the figures, staged together and renamed into place at the
//! end ([`crate::io::staging`]), like a forecast's, with `report.html` ([`super::pages`]).

use std::path::{Path, PathBuf};

use super::config::Format;
use super::hindcast::Hindcast;
use super::provenance::Provenance;
use super::{PipelineError, RunConfig};
use crate::io::netcdf::HindcastFile;
use crate::io::staging::Staging;
use crate::report::Figure;
use crate::time::Period;
use crate::verify::index::{self, index_skill};
use crate::verify::starts::{verify_starts, BootstrapSettings, HindcastReport, StartsInput};
use crate::verify::References;

/// Every file a hindcast writes.
pub const FILES: [&str; 8] = [
    "hindcast.nc",
    "hindcast.md",
    "hindcast.json",
    "hindcast_rmse.png",
    "hindcast_acc.png",
    "hindcast_skill_map.png",
    "hindcast_nino34.png",
    super::pages::REPORT,
];

/// Checks that the outputs can be written into `dir` and opens the staging area.
pub fn prepare(dir: &Path) -> Result<Staging, PipelineError> {
    let names: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    Ok(Staging::prepare(dir, &names)?)
}

/// A hindcast's ensemble mean laid out for verification and writing (flattened once), the
/// references of each of its fits, and the verification itself.
pub struct Verified {
    /// The ensemble mean, `[start][lead][cell]` (the layout of [`Hindcast::members`]).
    pub mean: Vec<f32>,
    /// The references of each fit, fitted on that fit's training steps.
    pub references: Vec<References>,
    /// The verification over every start.
    pub report: HindcastReport,
    /// The Niño 3.4 index table (Markdown), when a region is called `nino34`; else empty.
    pub index: String,
}

impl Verified {
    /// Verifies every start of `hc` against the observations, with references fitted on each
    /// fit's training steps.
    pub fn of(hc: &Hindcast) -> Self {
        let first = &hc.sessions[0];
        let cube = &first.cube;
        let horizon = hc.mean.first().map_or(0, |f| f.horizon);
        let references: Vec<References> = hc
            .sessions
            .iter()
            .map(|s| References::fit(&s.cube, s.steps, horizon))
            .collect();
        let per_start: Vec<&References> = hc.fit_of_start.iter().map(|&g| &references[g]).collect();
        let starts: Vec<usize> = hc
            .starts
            .iter()
            .map(|s| (s.0 - cube.start.0) as usize)
            .collect();
        let mean: Vec<f32> = hc
            .mean
            .iter()
            .flat_map(|f| f.values.iter().copied())
            .collect();
        let weights = cube.grid.area_weights();
        let input = StartsInput {
            cube,
            references: &per_start,
            starts: &starts,
            horizon,
            regions: &first.regions,
            weights: &weights,
            mean: &mean,
            members: &hc.members,
        };
        let report = verify_starts(&input, BootstrapSettings::default());
        let index = match first.regions.iter().find(|r| r.id == "nino34") {
            Some(r) => index::to_markdown(&index_skill(&input, &r.id, &r.cells, &[1, 3, 6, 9, 12])),
            None => String::new(),
        };
        Self {
            mean,
            references,
            report,
            index,
        }
    }
}

/// Writes the tables, `hindcast.nc` and the figures into `stage`; returns the Markdown table.
pub fn write(
    rc: &RunConfig,
    stage: &mut Staging,
    dir: &Path,
    hc: &Hindcast,
    v: &Verified,
) -> Result<String, PipelineError> {
    let mut files = Vec::new();
    if write_netcdf(rc, stage, hc, v)? {
        files.push("hindcast.nc".to_string());
    }
    let report = &v.report;
    let mut table = report.to_markdown();
    for (g, gate) in hc.gates.iter().enumerate() {
        let fit = if hc.gates.len() > 1 {
            format!("Fit {}: ", g + 1)
        } else {
            String::new()
        };
        table.push_str(&format!("\n{fit}{}\n", gate.sentence()));
    }
    if !v.index.is_empty() {
        table.push('\n');
        table.push_str(&v.index);
    }
    write_file(stage, dir, "hindcast.md", table.as_bytes())?;
    write_file(stage, dir, "hindcast.json", report.to_json().as_bytes())?;
    files.extend(["hindcast.md".to_string(), "hindcast.json".to_string()]);
    let mut figures = Vec::new();
    if rc.pipeline.outputs.formats.contains(&Format::Png) {
        let product = &hc.sessions[0].product;
        let maps = super::outputs::maps(rc, &hc.sessions[0]);
        let figures_of_run =
            super::hindcast_figures::draw(hc, report, &v.references[0], product, &maps).map_err(
                |source| PipelineError::Render {
                    path: dir.join("hindcast_*.png"),
                    source,
                },
            )?;
        for (name, png) in figures_of_run {
            write_file(stage, dir, name, &png)?;
            files.push(name.to_string());
            figures.push(Figure {
                name: name.to_string(),
                caption: super::pages::hindcast_caption(name),
                png,
            });
        }
    }
    let page = super::pages::hindcast(rc, hc, title_comment(rc, hc), &table, figures, files);
    write_file(stage, dir, super::pages::REPORT, page.to_html().as_bytes())?;
    Ok(table)
}

/// The hindcast's `title` and `comment` (in `hindcast.nc` and on `report.html`).
fn title_comment(rc: &RunConfig, hc: &Hindcast) -> (String, String) {
    let session = &hc.sessions[0];
    let freq = session.cube.freq;
    let label = |p: &Period| p.label(freq);
    let title = format!(
        "sstcast {} hindcast from {}: starts {}..{}",
        rc.pipeline.name(),
        session.product,
        hc.starts.first().map(label).unwrap_or_default(),
        hc.starts.last().map(label).unwrap_or_default(),
    );
    let comment = format!(
        "Hindcast: {} fit(s), the first on data before {}; every start was forecast autoregressively from the data before it only. sst is the ensemble mean, sst_spread the members' standard deviation. Cells outside every forecast region are fill.",
        hc.sessions.len(),
        session.origin.label(freq)
    );
    (title, comment)
}

/// `hindcast.nc`: the ensemble mean and spread from every start (false: no start, no file).
fn write_netcdf(
    rc: &RunConfig,
    stage: &mut Staging,
    hc: &Hindcast,
    v: &Verified,
) -> Result<bool, PipelineError> {
    let (Some(first), Some(session)) = (hc.mean.first(), hc.sessions.first()) else {
        return Ok(false);
    };
    let spread = spread(&hc.members, v.mean.len());
    let prov = Provenance::of(rc, session);
    let freq = first.freq;
    let (title, comment) = title_comment(rc, hc);
    let anomaly = session.cube.variable.to_lowercase().contains("anom");
    let file = HindcastFile {
        grid: &first.grid,
        freq,
        starts: &hc.starts,
        horizon: first.horizon,
        values: &v.mean,
        spread: &spread,
        anomaly,
        title,
        source: prov.source,
        history: prov.history,
        comment,
        references: format!("input: {}", session.product),
        config: rc.config_text.clone(),
        inputs: Provenance::inputs(session),
        boxes: Provenance::boxes(rc, session),
    };
    let path = stage.file("hindcast.nc");
    crate::io::netcdf::write_hindcast(&path, &file)?;
    Ok(true)
}

/// The members' standard deviation (1/(M-1)) at each of the `n` values; NaN for one member.
fn spread(members: &[Vec<f32>], n: usize) -> Vec<f32> {
    let m = members.len();
    if m < 2 {
        return vec![f32::NAN; n];
    }
    (0..n)
        .map(|k| {
            let mean = members.iter().map(|v| v[k] as f64).sum::<f64>() / m as f64;
            let var = members
                .iter()
                .map(|v| (v[k] as f64 - mean).powi(2))
                .sum::<f64>();
            (var / (m - 1) as f64).sqrt() as f32
        })
        .collect()
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
