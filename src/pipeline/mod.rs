//! One run, start to finish: read -> regions -> fit -> forecast -> write/render -> verify.
//!
//! This module only sequences the stages; each stage lives in its own module, and each of
//! the pipeline's own jobs in its own file:
//!
//! - [`config`]: the pipeline file, read once and validated (errors name the dotted key);
//! - [`session`]: the setup `forecast`, `merge` and `skill` share (input, regions, run key,
//!   the output directory's lock);
//! - [`key`]: the run key of the saved region results;
//! - [`outputs`]: the catalogue of output files, staged and written together;
//! - [`provenance`]: what made the outputs;
//! - [`pages`]: what goes on a run's `report.html`.
//!
//! The three commands:
//! - [`run`] (`sstcast forecast`) fits every region (or a Slurm shard's share) and writes the
//!   outputs. Fitted regions are saved as they finish ([`crate::ops::checkpoint`]) and reused
//!   by the next run, so an interrupted run (signal: exit 75; `kill -9`) continues where it
//!   stopped, and a shard writes only region results;
//! - [`merge`] assembles the results of every shard into the outputs a single-node run writes;
//! - [`skill`] verifies a stored forecast against observations that arrived since.
//!
//! The output directory is checked before fitting starts, every file is written into a
//! staging directory, and the files are renamed onto their final names only when all are
//! complete: a failed run leaves no file under a final name and earlier outputs in place.

pub mod config;
pub mod hindcast;
mod hindcast_figures;
mod hindcast_outputs;
pub mod key;
pub mod outputs;
pub mod pages;
pub mod provenance;
pub mod session;

use std::path::PathBuf;
use std::time::Instant;

pub use config::{ConfigError, Format, PipelineConfig};

use crate::dataset::prep::DatasetError;
use crate::error_class::ErrorClass;
use crate::fit::{self, CacheError, FitError, FitPlan, FitRecord, RegionCache, RegionFit};
use crate::forecast::{self, Forecast};
use crate::io::geotiff::GeoTiffError;
use crate::io::inputs::InputError;
use crate::io::netcdf::{self as nc, NetcdfError};
use crate::io::staging::OutputError;
use crate::model::ModelShape;
use crate::ops::checkpoint::{CheckpointError, RegionStore};
use crate::ops::lock::LockError;
use crate::ops::shard::Shard;
use crate::region::{Region, RegionError};
use crate::render::RenderError;
use crate::train::{BaselineKind, TrainSettings};
use crate::verify::SkillReport;
use outputs::OutputSet;
use session::Session;

/// A validated run request: the pipeline plus the per-run choices from the command line.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The pipeline (with command-line overrides applied).
    pub pipeline: PipelineConfig,
    /// Where the pipeline came from (for provenance).
    pub config_path: PathBuf,
    /// The pipeline file's text, exactly as parsed (provenance in the NetCDF output).
    pub config_text: String,
    /// Target year.
    pub year: i64,
    /// Worker threads.
    pub threads: usize,
    /// The command line, for `history`.
    pub command_line: String,
    /// Refit every region even when a saved result exists.
    pub force: bool,
    /// Fit only this shard's regions and write no final outputs (Slurm array task).
    pub shard: Option<Shard>,
    /// Device the fits run on.
    pub device: crate::train::DeviceChoice,
    /// Test hook (`SSTCAST_STOP_AFTER`): SIGTERM to self after this many regions fitted.
    pub stop_after: Option<usize>,
}

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The input patterns give no file.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading or writing NetCDF.
    #[error(transparent)]
    Netcdf(#[from] NetcdfError),
    /// The input cannot hold a forecast from the requested start.
    #[error(transparent)]
    Data(#[from] DatasetError),
    /// Regions.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// Fitting.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// GeoTIFF output.
    #[error(transparent)]
    GeoTiff(#[from] GeoTiffError),
    /// A figure that cannot be drawn (`path`: the figure's final path).
    #[error("{path}: {source}")]
    Render {
        /// The figure.
        path: PathBuf,
        /// Why.
        #[source]
        source: RenderError,
    },
    /// Preparing or committing the outputs (directory, read-only earlier output, disk full).
    #[error(transparent)]
    Outputs(#[from] OutputError),
    /// The output directory is locked by another run.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Saved region results.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A stop was requested (signal): the regions finished so far are saved.
    #[error("interrupted by {signal}: {fitted} region(s) fitted and saved in this run, {remaining} not started; run the same command again to continue (saved results in {dir})")]
    Interrupted {
        /// The signal.
        signal: String,
        /// Regions fitted in this run.
        fitted: usize,
        /// Regions left.
        remaining: usize,
        /// Where the results are.
        dir: PathBuf,
    },
    /// `merge` found regions without a saved result.
    #[error("cannot merge: {} of {total} region(s) have no saved result in {dir}{}: {}; run the missing shard(s) (sstcast forecast --shard I/N) first", missing.len(), if shards.is_empty() { String::new() } else { format!(" (missing shard(s) {shards})") }, list_ids(missing))]
    MissingRegions {
        /// The results directory.
        dir: PathBuf,
        /// Regions without a result.
        missing: Vec<String>,
        /// Regions in the run.
        total: usize,
        /// The shards that should have fitted them (`I/N`, comma-separated), when known.
        shards: String,
    },
    /// Writing an output file.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl PipelineError {
    /// The class of the failure, as the layer that failed reports it.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Config(e) => e.class(),
            Self::Input(e) => e.class(),
            Self::Netcdf(e) => e.class(),
            Self::Data(e) => e.class(),
            Self::Region(e) => e.class(),
            Self::Fit(e) => e.class(),
            Self::GeoTiff(e) => e.class(),
            Self::Render { source, .. } => source.class(),
            Self::Outputs(e) => e.class(),
            Self::Lock(e) => e.class(),
            Self::Checkpoint(e) => e.class(),
            Self::Interrupted { .. } => ErrorClass::TempFail,
            Self::MissingRegions { .. } => ErrorClass::NoInput,
            Self::Output { source, .. } => ErrorClass::of_write(source, ErrorClass::CannotCreate),
        }
    }
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunSummary {
    /// The output directory.
    pub out_dir: PathBuf,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Number of regions fitted.
    pub regions: usize,
    /// Verification against observations, when the input covers the target period.
    pub skill: Option<SkillReport>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Set for a shard run (no final outputs written).
    pub shard: Option<Shard>,
}

fn list_ids(ids: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut s = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(", ... ({} more)", ids.len() - SHOWN));
    }
    s
}

/// Progress callback: called for every region fitted now.
pub type Progress<'a> = &'a (dyn Fn(&RegionFit) + Sync);

fn fit_plan(rc: &RunConfig, session: &Session) -> FitPlan {
    let m = &rc.pipeline.model;
    FitPlan {
        shape: ModelShape {
            cell: m.cell,
            layers: m.layers,
            hidden: m.hidden,
            channels: 0,
        },
        settings: TrainSettings {
            window: m.window,
            horizon: m.horizon,
            epochs: m.epochs,
            batch: m.batch,
            learning_rate: m.learning_rate,
            l2: m.l2,
            validation: m.validation,
            patience: m.patience,
            min_improvement: m.min_improvement,
            baseline: match m.baseline {
                config::BaselineChoice::Damped => BaselineKind::Damped,
                config::BaselineChoice::Seasonal => BaselineKind::Seasonal {
                    prior: m.seasonal_prior,
                },
            },
            decoder: m.decoder_training,
            device: rc.device,
        },
        ensemble: m.ensemble,
        seed: m.seed,
        threads: rc.threads,
        trend_slope: session.trend_slope,
        starts: Vec::new(),
        keep_members: false,
        drivers: m.drivers,
    }
}

/// The checkpoint store as the fitting stage's cache, with the run's policies: `--force`
/// loads nothing; a shard must save (its saved results are its only output), a whole run
/// only warns (it can still write its outputs, and loses only resumability); the test hook
/// `SSTCAST_STOP_AFTER` sends SIGTERM after that many saves.
struct Checkpoints<'a> {
    store: &'a RegionStore,
    force: bool,
    shard: Option<Shard>,
    stop_after: Option<usize>,
    saved: std::sync::atomic::AtomicUsize,
}

impl RegionCache for Checkpoints<'_> {
    fn load(&self, region: &Region, values: usize) -> Option<RegionFit> {
        if self.force {
            return None;
        }
        self.store.load(region, values).map(|(f, _)| f)
    }

    fn save(&self, fit: &RegionFit) -> Result<(), CacheError> {
        match self.store.save(fit, self.shard.map(|s| s.to_string())) {
            Err(e) if self.shard.is_none() => {
                tracing::warn!("{e}; a rerun will fit region {} again", fit.forecast.id)
            }
            r => r?,
        }
        let n = self.saved.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if self.stop_after == Some(n) {
            crate::ops::signal::send_sigterm_to_self();
        }
        Ok(())
    }

    fn describe(&self) -> Option<(String, String)> {
        let scope = self
            .shard
            .map(|s| format!(" of shard {s}"))
            .unwrap_or_default();
        Some((scope, self.store.dir().display().to_string()))
    }
}

/// `Interrupted` when a stop request left regions unfitted (those fitted are saved in `store`).
fn stopped(fitted: &fit::Fitted, store: &RegionStore) -> Result<(), PipelineError> {
    if fitted.not_started.is_empty() {
        return Ok(());
    }
    Err(PipelineError::Interrupted {
        signal: crate::ops::signal::stop_signal_name()
            .unwrap_or("a stop request")
            .to_string(),
        fitted: fitted.fitted,
        remaining: fitted.not_started.len(),
        dir: store.dir().to_path_buf(),
    })
}

/// Fits the regions of `session` (only the shard's share for a shard run) with `plan`
/// through the checkpoint store: saved results are loaded, new ones saved at once, the store
/// flushed once at the end; a stop request ends the run with `Interrupted`.
fn fit_saved(
    rc: &RunConfig,
    session: &Session,
    plan: &fit::FitPlan,
    progress: Progress<'_>,
) -> Result<(fit::Fitted, RegionStore), PipelineError> {
    fit::check_plan(&session.cube, session.origin, plan)?;
    let store = RegionStore::open(&session.out_dir, &session.key)?;
    store.remove_dead_temporaries();
    let cache = Checkpoints {
        store: &store,
        force: rc.force,
        shard: rc.shard,
        stop_after: rc.stop_after,
        saved: Default::default(),
    };
    let mine: Vec<Region> = session
        .regions
        .iter()
        .filter(|r| rc.shard.is_none_or(|s| s.contains(&r.id)))
        .cloned()
        .collect();
    let stop = crate::ops::signal::stop_requested;
    let fitted = fit::fit_regions(
        &session.cube,
        session.origin,
        &mine,
        plan,
        &cache,
        &stop,
        progress,
    );
    // The saved regions are flushed once here, not one by one (crate::ops::checkpoint docs).
    match store.sync() {
        Err(e) if rc.shard.is_none() => tracing::warn!("{e}"),
        r => r?,
    }
    let fitted = fitted?;
    stopped(&fitted, &store)?;
    Ok((fitted, store))
}

/// Runs a forecast end to end (a shard run: fits and saves its regions only).
pub fn run(rc: &RunConfig, progress: Progress<'_>) -> Result<RunSummary, PipelineError> {
    // The input is read (and checked) first: a bad input creates no output directory.
    let session = Session::open(rc)?;
    let _lock = session.lock(rc)?;
    run_locked(rc, session, progress)
}

fn run_locked(
    rc: &RunConfig,
    session: Session,
    progress: Progress<'_>,
) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    tracing::info!(
        "fitting {} region(s){} on {} training steps before {} with {} thread(s)",
        session.regions.len(),
        rc.shard
            .map(|s| format!(" (shard {s}: only its share)"))
            .unwrap_or_default(),
        session.steps,
        session.origin.label(session.cube.freq),
        rc.threads
    );
    let plan = fit_plan(rc, &session);
    // Before fitting: an unwritable directory or a protected output fails now, not in an hour.
    let outputs = match rc.shard {
        None => Some(OutputSet::prepare(rc, &session)?),
        Some(_) => None,
    };
    let (fitted, store) = fit_saved(rc, &session, &plan, progress)?;
    let Some(outputs) = outputs else {
        tracing::info!(
            "shard {}: {} region(s) fitted, {} already saved; results in {} (run `sstcast merge` with the same flags once every shard has finished)",
            rc.shard.map(|s| s.to_string()).unwrap_or_default(),
            fitted.fitted,
            fitted.loaded,
            store.dir().display()
        );
        return Ok(RunSummary {
            out_dir: session.out_dir,
            files: Vec::new(),
            regions: fitted.regions.len(),
            skill: None,
            seconds: t0.elapsed().as_secs_f64(),
            shard: rc.shard,
        });
    };
    tracing::info!(
        "{} region(s) fitted, {} loaded, in {:.1} s",
        fitted.fitted,
        fitted.loaded,
        t0.elapsed().as_secs_f64()
    );
    finish(rc, &session, &fitted.regions, outputs, t0)
}

/// Assembles the region results onto the grid and writes every output (staged, then all
/// renamed).
fn finish(
    rc: &RunConfig,
    session: &Session,
    results: &[RegionFit],
    mut outputs: OutputSet,
    t0: Instant,
) -> Result<RunSummary, PipelineError> {
    let t_out = Instant::now();
    let values: Vec<_> = results.iter().map(|r| r.forecast.clone()).collect();
    let regions: Vec<Region> = values
        .iter()
        .map(|v| Region {
            id: v.id.clone(),
            cells: v.cells.clone(),
        })
        .collect();
    let horizon = rc.pipeline.model.horizon;
    let fc = forecast::assemble(&session.cube, session.origin, horizon, &regions, &values);
    let records: Vec<(&str, &FitRecord)> = results
        .iter()
        .map(|r| (r.forecast.id.as_str(), &r.record))
        .collect();
    let gate = forecast::GateSummary::of(records.iter().copied());
    tracing::info!("{}", gate.sentence());
    outputs.write_forecast(rc, session, &fc, &gate)?;
    let skill = outputs.write_report(rc, session, &fc, &records)?;
    outputs.write_page(rc, session)?;
    let written = outputs.commit()?;
    tracing::info!(
        "{} output file(s) written in {:.1} s",
        written.len(),
        t_out.elapsed().as_secs_f64()
    );
    Ok(RunSummary {
        out_dir: session.out_dir.clone(),
        files: written,
        regions: fc.regions.len(),
        skill,
        seconds: t0.elapsed().as_secs_f64(),
        shard: None,
    })
}

/// Assembles the region results saved by the shards of a Slurm array (or any earlier runs
/// with the same key) into the final outputs, the same ones a single-node run writes. Fails
/// naming the regions, and the shards, whose results are missing.
pub fn merge(rc: &RunConfig, _progress: Progress<'_>) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    let session = Session::open(rc)?;
    let _lock = session.lock(rc)?;
    let plan = fit_plan(rc, &session);
    fit::check_plan(&session.cube, session.origin, &plan)?;
    let outputs = OutputSet::prepare(rc, &session)?;
    let store = RegionStore::open(&session.out_dir, &session.key)?;
    let horizon = plan.settings.horizon;
    let mut found = Vec::with_capacity(session.regions.len());
    let mut missing = Vec::new();
    let mut shard_count = None;
    for r in &session.regions {
        match store.load(r, horizon * r.cells.len()) {
            Some((f, shard)) => {
                shard_count = shard_count.or_else(|| {
                    shard
                        .as_deref()
                        .and_then(|s| Shard::parse(s).ok())
                        .map(|s| s.count)
                });
                found.push(f);
            }
            None => missing.push(r.id.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(PipelineError::MissingRegions {
            dir: store.dir().to_path_buf(),
            shards: shard_count.map_or(String::new(), |n| missing_shards(&missing, n)),
            missing,
            total: session.regions.len(),
        });
    }
    store.remove_dead_temporaries();
    tracing::info!(
        "merging {} saved region result(s) from {}",
        found.len(),
        store.dir().display()
    );
    finish(rc, &session, &found, outputs, t0)
}

/// The shards (`I/N`, comma-separated) that should have fitted the `missing` regions.
fn missing_shards(missing: &[String], n: usize) -> String {
    let mut v: Vec<usize> = missing.iter().map(|id| Shard::of_region(id, n)).collect();
    v.sort_unstable();
    v.dedup();
    v.iter()
        .map(|i| format!("{i}/{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Verifies an existing forecast of `rc.year` against the observations now in the input
/// (e.g. a forecast made in January, verified a year later). Runs the forecast first when
/// there is none yet.
pub fn skill(rc: &RunConfig, progress: Progress<'_>) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    let session = Session::open(rc)?;
    let _lock = session.lock(rc)?;
    let path = session
        .out_dir
        .join(outputs::OutputFile::Netcdf.name(rc.year));
    if !path.exists() {
        tracing::info!("no forecast at {}: running it first", path.display());
        return run_locked(rc, session, progress);
    }
    let stored = nc::read_forecast(&path)?;
    if !stored.grid.same_as(&session.cube.grid)
        || stored.freq != session.cube.freq
        || stored.first != session.origin
    {
        return Err(PipelineError::Netcdf(NetcdfError::GridMismatch {
            first: session.files.first().cloned().unwrap_or_default(),
            path,
        }));
    }
    let horizon = stored.values.len() / stored.grid.ncells().max(1);
    let fc = Forecast {
        grid: stored.grid,
        freq: stored.freq,
        first: stored.first,
        horizon,
        values: stored.values,
        regions: session.regions.clone(),
    };
    let mut outputs = OutputSet::prepare(rc, &session)?;
    let skill = outputs.write_report(rc, &session, &fc, &[])?;
    outputs.adopt_stored(rc);
    outputs.write_page(rc, &session)?;
    let written = outputs.commit()?;
    Ok(RunSummary {
        out_dir: session.out_dir,
        files: written,
        regions: fc.regions.len(),
        skill,
        seconds: t0.elapsed().as_secs_f64(),
        shard: None,
    })
}
