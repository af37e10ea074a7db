//! The shared setup of `forecast`, `merge` and `skill`: the input read and cut for one target
//! year, the regions built, the run key computed, and the output directory locked.
//!
//! All three commands start alike, and each step fails for the user's data before anything
//! is written: the input is read (and checked) first, so a bad input creates no output
//! directory; only then is the directory created and its lock taken ([`crate::ops::lock`]; a
//! Slurm shard takes a lock of its own, since the tasks of an array run side by side), and
//! what killed runs left in it is swept ([`crate::io::sweep`]).
//!
//! Short gaps in the training record are interpolated and cells with long gaps masked before
//! the ocean mask is computed ([`crate::dataset::gaps`]). Named boxes the input holds none of
//! the ocean of are skipped with a warning naming each ([`crate::region::layout`] says why),
//! so the default pipeline runs on a regional file as it is.

use std::path::{Path, PathBuf};

use super::config::PipelineConfig;
use super::{key, PipelineError, RunConfig};
use crate::dataset::prep::{global_trend, ocean_mask, training_steps};
use crate::dataset::{gaps, per_decade, Trend};
use crate::grid::Cube;
use crate::io::netcdf as nc;
use crate::io::staging::OutputError;
use crate::ops::lock::{OutputLock, LOCK_NAME};
use crate::ops::shard::Shard;
use crate::region::{self, Region};
use crate::time::{Frequency, Period};

/// The input read and cut for one target year.
#[derive(Debug)]
pub struct Session {
    /// The input files, sorted.
    pub files: Vec<PathBuf>,
    /// Their data, in the pipeline's temporal mode, short training gaps filled.
    pub cube: Cube,
    /// The forecast start.
    pub origin: Period,
    /// Steps before the origin (the training period).
    pub steps: usize,
    /// The regions, one model each.
    pub regions: Vec<Region>,
    /// The named boxes of the pipeline left out: the input holds none of their ocean.
    pub skipped_boxes: Vec<region::Skipped>,
    /// The product's name for titles.
    pub product: String,
    /// `<outputs.dir>/<pipeline>/<year>/`.
    pub out_dir: PathBuf,
    /// Key of the saved region results ([`super::key`]).
    pub key: String,
    /// The models' climatology trend, degrees per step (0 without `trend: global`).
    pub trend_slope: f64,
}

impl Session {
    /// Reads the input of `rc` and prepares everything the fits and the outputs share, for
    /// the forecast of `rc.year`.
    pub fn open(rc: &RunConfig) -> Result<Self, PipelineError> {
        let origin = Period::year_start(rc.year, Frequency::Monthly);
        Self::open_at(rc, origin, out_dir(rc), |files| {
            key::run_key(&rc.pipeline, rc.year, files)
        })
    }

    /// The same for training up to the month before `origin` (a monthly period; in annual
    /// mode the year it falls in is the origin, so it should be a January), with outputs in
    /// `out_dir` and the run key `key` gives for the input files.
    pub fn open_at(
        rc: &RunConfig,
        origin: Period,
        out_dir: PathBuf,
        key: impl FnOnce(&[PathBuf]) -> String,
    ) -> Result<Self, PipelineError> {
        let p = &rc.pipeline;
        let files = crate::io::inputs::expand(&p.input.files.patterns())?;
        tracing::info!("reading {} input file(s)", files.len());
        let cube = read_files(&files, p, origin)?;
        tracing::info!(
            "input: variable {:?}, {} x {} grid, {} steps {}..{}",
            cube.variable,
            cube.grid.nlat(),
            cube.grid.nlon(),
            cube.len(),
            cube.start.label(cube.freq),
            cube.period(cube.len().saturating_sub(1)).label(cube.freq)
        );
        let origin = match cube.freq {
            Frequency::Monthly => origin,
            Frequency::Annual => Period(origin.year_month(Frequency::Monthly).0),
        };
        let steps = training_steps(&cube, origin)?;
        let mask = ocean_mask(&cube, steps);
        let layout = region::layout(&cube.grid, &mask, p.regions.tiles, &p.regions.boxes)?;
        report_boxes(&layout, &files);
        let region::Layout {
            regions, skipped, ..
        } = layout;
        let trend_slope = match p.model.trend {
            Trend::None => 0.0,
            Trend::Global => {
                let slope = global_trend(&cube, steps);
                tracing::info!(
                    "global-mean SST trend of the training period: {:+.3} degC per decade \
                     (the models' climatology follows it)",
                    per_decade(slope, cube.freq)
                );
                slope
            }
        };
        let product = p.product.clone().unwrap_or_else(|| cube.variable.clone());
        let key = key(&files);
        Ok(Self {
            files,
            cube,
            origin,
            steps,
            regions,
            skipped_boxes: skipped,
            product,
            out_dir,
            key,
            trend_slope,
        })
    }

    /// Creates the output directory, takes its lock (a shard's own lock for a shard run) and
    /// sweeps what killed runs left there.
    pub fn lock(&self, rc: &RunConfig) -> Result<OutputLock, PipelineError> {
        lock_dir(&self.out_dir, rc.shard)
    }
}

/// Logs the named boxes skipped (a warning naming each: the pipeline asked for them) and those
/// cut by the input's domain.
fn report_boxes(layout: &region::Layout, files: &[PathBuf]) {
    let input = match files {
        [one] => one.display().to_string(),
        _ => format!("the {} input files", files.len()),
    };
    for s in &layout.skipped {
        tracing::warn!(
            "named box {s} is not fitted: {input} holds no ocean cell of it; the other regions \
             are (the outputs' metadata list the boxes fitted)"
        );
    }
    for name in &layout.partial {
        tracing::info!(
            "named box {name} reaches beyond the domain of {input}: fitted on its ocean cells inside it"
        );
    }
}

/// Creates `dir`, takes its lock (`shard`'s own lock for a shard run, since the tasks of an
/// array run side by side) and sweeps what killed runs left there.
pub fn lock_dir(dir: &Path, shard: Option<Shard>) -> Result<OutputLock, PipelineError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let name = match shard {
        Some(s) => format!(".sstcast-shard-{}-of-{}.lock", s.index, s.count),
        None => LOCK_NAME.to_string(),
    };
    let lock = OutputLock::acquire(dir, &name)?;
    crate::io::sweep::remove_stale(dir);
    Ok(lock)
}

/// The output directory of a run: `<outputs.dir>/<pipeline>/<year>/`.
pub fn out_dir(rc: &RunConfig) -> PathBuf {
    let p = &rc.pipeline;
    p.outputs.dir.join(p.name()).join(rc.year.to_string())
}

/// Reads input files into the cube of the pipeline's temporal mode, with short gaps in the
/// training months (before the monthly period `origin`) filled.
fn read_files(
    files: &[PathBuf],
    p: &PipelineConfig,
    origin: Period,
) -> Result<Cube, PipelineError> {
    let mut monthly = nc::read_cube(files, p.input.variable.as_deref())?;
    if let Some(first) = p.input.first_year {
        monthly = monthly.since(Period::month(first, 1));
    }
    gaps::fill_short_gaps(&mut monthly, origin);
    Ok(match p.temporal {
        Frequency::Monthly => monthly,
        Frequency::Annual => monthly.annual_means(),
    })
}
