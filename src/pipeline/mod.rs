//! One forecast run, start to finish: read -> regions -> fit -> forecast -> write/render -> verify.
//!
//! This module only sequences the stages and names the outputs; each stage lives in its own
//! module. Data flows one way: nothing downstream reaches back into an earlier stage.
//!
//! Outputs of `forecast --year Y` go to `<outputs.dir>/<pipeline>/<Y>/`:
//! `sst_forecast_<Y>.nc` (CF-1.8), `sst_forecast_<Y>.tif` (GeoTIFF, one band per lead) and
//! `sst_forecast_<Y>.png` (heatmap of the mean over leads), plus the verification tables and
//! figures when the input holds observations of Y ([`crate::figures`]). The output directory is
//! checked before fitting starts, every file is written into a staging directory, and the
//! files are renamed onto their final names only when all are complete
//! ([`crate::io::Staging`]): a failed run leaves no file under a final name and earlier
//! outputs in place.
//!
//! Operations (cron, Slurm): every run holds the lock of its output directory
//! ([`crate::ops::lock`]) from just after it has read the input (so a bad input creates no
//! output directory) until it ends; a shard
//! (`--shard I/N`) holds a lock of its own, since the tasks of an array run side by side.
//! Fitted regions are saved as they finish ([`crate::checkpoint`]) and reused by the next
//! run, so an interrupted run (signal: exit 75; `kill -9`) continues where it stopped, a
//! shard writes only region results, and [`merge`] assembles them into the final outputs.
//!
//! Short gaps in the training record are interpolated and cells with long gaps masked before
//! the ocean mask is computed ([`crate::gaps`]).

pub mod config;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use config::{ConfigError, Format, PipelineConfig};

use crate::checkpoint::{CheckpointError, KeyParts, RegionStore};
use crate::dataset::Trend;
use crate::device::DeviceChoice;
use crate::figures;
use crate::forecast::{self, FitPlan, Forecast, ForecastError, RegionForecast, Resume};
use crate::grid::Cube;
use crate::io::geotiff::{self, GeoTiffError};
use crate::io::netcdf::{self as nc, ForecastFile, NetcdfError};
use crate::model::ModelShape;
use crate::ops::lock::{LockError, OutputLock, LOCK_NAME};
use crate::region::{self, RegionError};
use crate::render::RenderError;
use crate::shard::Shard;
use crate::time::{Frequency, Period};
use crate::train::TrainSettings;
use crate::verify::{self, SkillReport};

/// A validated run request: the pipeline plus the per-run choices from the command line.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The pipeline (with command-line overrides applied).
    pub pipeline: PipelineConfig,
    /// Where the pipeline came from (for provenance).
    pub config_path: PathBuf,
    /// The pipeline file's text (for provenance in the NetCDF output).
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
    pub device: DeviceChoice,
    /// Test hook (`SSTCAST_STOP_AFTER`): SIGTERM to self after this many regions fitted.
    pub stop_after: Option<usize>,
}

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No input file matched.
    #[error("no input file matches {pattern:?}")]
    NoInput {
        /// The pattern.
        pattern: String,
    },
    /// Reading or writing NetCDF.
    #[error(transparent)]
    Netcdf(#[from] NetcdfError),
    /// Regions.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// Fitting and forecasting.
    #[error(transparent)]
    Forecast(#[from] ForecastError),
    /// GeoTIFF output.
    #[error(transparent)]
    GeoTiff(#[from] GeoTiffError),
    /// PNG output.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Preparing or committing the outputs (directory, read-only earlier output, disk full).
    #[error(transparent)]
    Outputs(#[from] crate::io::OutputError),
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
    /// Creating the output directory or another output.
    #[error("cannot write {path}: {source}")]
    Output {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
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

/// Expands the input patterns (paths or globs) into a sorted, de-duplicated file list.
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    for p in patterns {
        let is_glob = p.contains(['*', '?', '[']);
        if !is_glob {
            let path = PathBuf::from(p);
            if path.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
                    .map_err(|source| PipelineError::Output {
                        path: path.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == "nc" || x == "nc4"))
                    .collect();
                if found.is_empty() {
                    return Err(PipelineError::NoInput { pattern: p.clone() });
                }
                out.append(&mut found);
            } else {
                // A plain path that does not exist is reported by the reader, naming it.
                out.push(path);
            }
            continue;
        }
        let matches: Vec<PathBuf> = glob::glob(p)
            .map_err(|_| PipelineError::NoInput { pattern: p.clone() })?
            .filter_map(Result::ok)
            .collect();
        if matches.is_empty() {
            return Err(PipelineError::NoInput { pattern: p.clone() });
        }
        out.extend(matches);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The input read and cut for one target year: shared by `forecast` and `skill`.
struct Prepared {
    files: Vec<PathBuf>,
    cube: Cube,
    origin: Period,
    steps: usize,
    regions: Vec<region::Region>,
    product: String,
    out_dir: PathBuf,
    /// Key of the saved region results ([`crate::checkpoint`]).
    key: String,
    /// The models' climatology trend, degrees per step (0 without `trend: global`).
    trend_slope: f64,
}

/// A slope per step as degrees per decade.
fn per_decade(slope: f64, freq: Frequency) -> f64 {
    slope
        * match freq {
            Frequency::Monthly => 120.0,
            Frequency::Annual => 10.0,
        }
}

/// The output directory of a run: `<outputs.dir>/<pipeline>/<year>/`.
pub fn out_dir(rc: &RunConfig) -> PathBuf {
    let p = &rc.pipeline;
    p.outputs.dir.join(p.name()).join(rc.year.to_string())
}

/// Creates the output directory and takes its lock (a shard's own lock for a shard run).
fn lock(rc: &RunConfig) -> Result<OutputLock, PipelineError> {
    let dir = out_dir(rc);
    std::fs::create_dir_all(&dir).map_err(|source| crate::io::OutputError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let name = match rc.shard {
        Some(s) => format!(".sstcast-shard-{}-of-{}.lock", s.index, s.count),
        None => LOCK_NAME.to_string(),
    };
    let lock = OutputLock::acquire(&dir, &name)?;
    remove_dead_staging(&dir);
    Ok(lock)
}

/// Removes the staging directories of runs that were killed (`kill -9`, node crash) before
/// they could clean up: `.sstcast-staging-<pid>-<n>` whose pid no longer runs here.
fn remove_dead_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(".sstcast-staging-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !crate::ops::pid_alive(p)) {
            tracing::info!("removing {} left by a killed run", e.path().display());
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn prepare(rc: &RunConfig) -> Result<Prepared, PipelineError> {
    let p = &rc.pipeline;
    let files = expand_inputs(&p.input.files.patterns())?;
    tracing::info!("reading {} input file(s)", files.len());
    let cube = read_files(&files, p, rc.year)?;
    tracing::info!(
        "input: variable {:?}, {} x {} grid, {} steps {}..{}",
        cube.variable,
        cube.grid.nlat(),
        cube.grid.nlon(),
        cube.len(),
        cube.start.label(cube.freq),
        cube.period(cube.len().saturating_sub(1)).label(cube.freq)
    );
    let origin = Period::year_start(rc.year, cube.freq);
    let steps = forecast::training_steps(&cube, origin)?;
    let mask = forecast::ocean_mask(&cube, steps);
    let regions = region::build(&cube.grid, &mask, p.regions.tiles, &p.regions.boxes)?;
    let trend_slope = match p.model.trend {
        Trend::None => 0.0,
        Trend::Global => {
            let slope = forecast::global_trend(&cube, steps);
            tracing::info!(
                "global-mean SST trend of the training period: {:+.3} degC per decade \
                 (the models' climatology follows it)",
                per_decade(slope, cube.freq)
            );
            slope
        }
    };
    let product = p.product.clone().unwrap_or_else(|| cube.variable.clone());
    let out_dir = out_dir(rc);
    let key = KeyParts {
        version: env!("CARGO_PKG_VERSION"),
        year: rc.year,
        temporal: &p.temporal,
        model: &p.model,
        regions: &p.regions,
        variable: &p.input.variable,
        first_year: &p.input.first_year,
        inputs: files
            .iter()
            .map(|f| crate::checkpoint::file_identity(f))
            .collect(),
    }
    .key();
    Ok(Prepared {
        files,
        cube,
        origin,
        steps,
        regions,
        product,
        out_dir,
        key,
        trend_slope,
    })
}

/// Runs a forecast end to end (a shard run: fits and saves its regions only).
pub fn run(
    rc: &RunConfig,
    progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<RunSummary, PipelineError> {
    // The input is read (and checked) first: a bad input creates no output directory.
    let pr = prepare(rc)?;
    let _lock = lock(rc)?;
    run_locked(rc, pr, progress)
}

fn fit_plan(rc: &RunConfig, pr: &Prepared) -> FitPlan {
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
        },
        ensemble: m.ensemble,
        seed: m.seed,
        threads: rc.threads,
        device: rc.device,
        trend_slope: pr.trend_slope,
    }
}

fn run_locked(
    rc: &RunConfig,
    pr: Prepared,
    progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    tracing::info!(
        "fitting {} region(s){} on {} training steps before {} with {} thread(s)",
        pr.regions.len(),
        rc.shard
            .map(|s| format!(" (shard {s}: only its share)"))
            .unwrap_or_default(),
        pr.steps,
        pr.origin.label(pr.cube.freq),
        rc.threads
    );
    let plan = fit_plan(rc, &pr);
    // Before fitting: an unwritable directory or a protected output fails now, not in an hour.
    let stage = match rc.shard {
        None => Some(crate::io::Staging::prepare(&pr.out_dir, &output_names(rc))?),
        Some(_) => None,
    };
    forecast::check_plan(&pr.cube, pr.origin, &plan)?;
    let store = RegionStore::open(&pr.out_dir, &pr.key)?;
    store.remove_dead_temporaries();
    let resume = Resume {
        store: &store,
        force: rc.force,
        shard: rc.shard,
        stop_after: rc.stop_after,
    };
    let fitted = forecast::fit_regions(
        &pr.cube,
        pr.origin,
        &pr.regions,
        &plan,
        Some(&resume),
        progress,
    )?;
    if !fitted.not_started.is_empty() {
        return Err(PipelineError::Interrupted {
            signal: crate::ops::signal::stop_signal_name()
                .unwrap_or("a stop request")
                .to_string(),
            fitted: fitted.fitted,
            remaining: fitted.not_started.len(),
            dir: store.dir().to_path_buf(),
        });
    }
    let Some(stage) = stage else {
        tracing::info!(
            "shard {}: {} region(s) fitted, {} already saved; results in {} (run `sstcast merge` with the same flags once every shard has finished)",
            rc.shard.map(|s| s.to_string()).unwrap_or_default(),
            fitted.fitted,
            fitted.loaded,
            store.dir().display()
        );
        return Ok(RunSummary {
            out_dir: pr.out_dir,
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
    let fc = forecast::assemble(&pr.cube, pr.origin, plan.settings.horizon, fitted.regions);
    write_outputs(rc, &pr, &fc, stage, t0)
}

/// Writes the final outputs of an assembled forecast (staged, then all renamed).
fn write_outputs(
    rc: &RunConfig,
    pr: &Prepared,
    fc: &Forecast,
    mut stage: crate::io::Staging,
    t0: Instant,
) -> Result<RunSummary, PipelineError> {
    let t_out = Instant::now();
    let p = &rc.pipeline;
    let stem = format!("sst_forecast_{}", rc.year);
    if p.outputs.formats.contains(&Format::Netcdf) {
        let path = stage.file(&format!("{stem}.nc"));
        write_netcdf(&path, rc, pr, fc)?;
    }
    if p.outputs.formats.contains(&Format::Geotiff) {
        let path = stage.file(&format!("{stem}.tif"));
        write_geotiff(&path, rc, pr, fc)?;
    }
    if p.outputs.formats.contains(&Format::Png) {
        let path = stage.file(&format!("{stem}.png"));
        figures::forecast_map(&path, fc, &labels(rc, pr))?;
    }
    let skill = report(rc, pr, fc, &mut stage)?;
    let written = stage.commit()?;
    tracing::info!(
        "{} output file(s) written in {:.1} s",
        written.len(),
        t_out.elapsed().as_secs_f64()
    );
    Ok(RunSummary {
        out_dir: pr.out_dir.clone(),
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
pub fn merge(
    rc: &RunConfig,
    _progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    let pr = prepare(rc)?;
    let _lock = lock(rc)?;
    let plan = fit_plan(rc, &pr);
    forecast::check_plan(&pr.cube, pr.origin, &plan)?;
    let stage = crate::io::Staging::prepare(&pr.out_dir, &output_names(rc))?;
    let store = RegionStore::open(&pr.out_dir, &pr.key)?;
    let horizon = plan.settings.horizon;
    let mut found = Vec::with_capacity(pr.regions.len());
    let mut missing = Vec::new();
    let mut shard_count = None;
    for r in &pr.regions {
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
        let shards = match shard_count {
            Some(n) => {
                let mut v: Vec<usize> = missing.iter().map(|id| Shard::of_region(id, n)).collect();
                v.sort_unstable();
                v.dedup();
                v.iter()
                    .map(|i| format!("{i}/{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            None => String::new(),
        };
        return Err(PipelineError::MissingRegions {
            dir: store.dir().to_path_buf(),
            missing,
            total: pr.regions.len(),
            shards,
        });
    }
    store.remove_dead_temporaries();
    tracing::info!(
        "merging {} saved region result(s) from {}",
        found.len(),
        store.dir().display()
    );
    let fc = forecast::assemble(&pr.cube, pr.origin, horizon, found);
    write_outputs(rc, &pr, &fc, stage, t0)
}

/// Verifies an existing forecast of `rc.year` against the observations now in the input
/// (e.g. a forecast made in January, verified a year later). Runs the forecast first when
/// there is none yet.
pub fn skill(
    rc: &RunConfig,
    progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<RunSummary, PipelineError> {
    let t0 = Instant::now();
    let pr = prepare(rc)?;
    let _lock = lock(rc)?;
    let path = pr.out_dir.join(format!("sst_forecast_{}.nc", rc.year));
    if !path.exists() {
        tracing::info!("no forecast at {}: running it first", path.display());
        return run_locked(rc, pr, progress);
    }
    let stored = nc::read_forecast(&path)?;
    if !stored.grid.same_as(&pr.cube.grid)
        || stored.freq != pr.cube.freq
        || stored.first != pr.origin
    {
        return Err(PipelineError::Netcdf(NetcdfError::GridMismatch {
            first: pr.files.first().cloned().unwrap_or_default(),
            path,
        }));
    }
    let horizon = stored.values.len() / stored.grid.ncells().max(1);
    let regions = pr
        .regions
        .iter()
        .map(|r| RegionForecast {
            id: r.id.clone(),
            cells: r.cells.clone(),
            values: Vec::new(),
            losses: Vec::new(),
            val_losses: Vec::new(),
            best_epochs: Vec::new(),
            models: Vec::new(),
        })
        .collect();
    let fc = Forecast {
        grid: stored.grid,
        freq: stored.freq,
        first: stored.first,
        horizon,
        values: stored.values,
        regions,
    };
    let mut stage = crate::io::Staging::prepare(&pr.out_dir, &output_names(rc))?;
    let skill = report(rc, &pr, &fc, &mut stage)?;
    let written = stage.commit()?;
    Ok(RunSummary {
        out_dir: pr.out_dir,
        files: written,
        regions: fc.regions.len(),
        skill,
        seconds: t0.elapsed().as_secs_f64(),
        shard: None,
    })
}

fn labels(rc: &RunConfig, pr: &Prepared) -> figures::Labels {
    figures::Labels {
        product: pr.product.clone(),
        year: rc.year,
    }
}

/// Every file name a run of `rc` may write (checked for writability before fitting).
fn output_names(rc: &RunConfig) -> Vec<String> {
    let p = &rc.pipeline;
    let y = rc.year;
    let mut v = Vec::new();
    for f in &p.outputs.formats {
        v.push(match f {
            Format::Netcdf => format!("sst_forecast_{y}.nc"),
            Format::Geotiff => format!("sst_forecast_{y}.tif"),
            Format::Png => format!("sst_forecast_{y}.png"),
        });
    }
    v.push(format!("skill_{y}.md"));
    v.push(format!("skill_{y}.json"));
    if p.outputs.formats.contains(&Format::Png) {
        for stem in ["observed", "error", "skill"] {
            v.push(format!("{stem}_{y}.png"));
        }
        for b in &p.regions.boxes {
            v.push(format!("series_{}_{y}.png", b.name));
            v.push(format!("loss_{}.png", b.name));
        }
    }
    v
}

/// Verification tables and figures, when the input has observations of the forecast period.
fn report(
    rc: &RunConfig,
    pr: &Prepared,
    fc: &Forecast,
    stage: &mut crate::io::Staging,
) -> Result<Option<SkillReport>, PipelineError> {
    let p = &rc.pipeline;
    let skill = verify::evaluate(&pr.cube, pr.steps, fc, rc.year);
    if let Some(report) = &skill {
        for (name, text) in [
            (format!("skill_{}.md", rc.year), report.to_markdown()),
            (format!("skill_{}.json", rc.year), report.to_json()),
        ] {
            let path = stage.file(&name);
            crate::io::write_atomic(&path, text.as_bytes()).map_err(|source| {
                PipelineError::Output {
                    path: pr.out_dir.join(&name),
                    source,
                }
            })?;
        }
    }
    if !p.outputs.formats.contains(&Format::Png) {
        return Ok(skill);
    }
    let labels = labels(rc, pr);
    if let Some(report) = &skill {
        let y = rc.year;
        if let Some(obs) = figures::observed_mean(&pr.cube, fc) {
            figures::observed_map(&stage.file(&format!("observed_{y}.png")), fc, &obs, &labels)?;
            figures::error_map(&stage.file(&format!("error_{y}.png")), fc, &obs, &labels)?;
        }
        figures::skill_map(&stage.file(&format!("skill_{y}.png")), fc, report, &labels)?;
    }
    for b in &p.regions.boxes {
        if let Some(r) = fc.regions.iter().find(|r| r.id == b.name) {
            let path = stage.file(&format!("series_{}_{}.png", r.id, rc.year));
            figures::series(&path, &pr.cube, fc, r, &labels)?;
            if !r.losses.is_empty() {
                figures::loss(&stage.file(&format!("loss_{}.png", r.id)), r)?;
            }
        }
    }
    Ok(skill)
}

/// The `source` and `history` attributes of the outputs: what made them, and how.
fn provenance(rc: &RunConfig, pr: &Prepared) -> (String, String) {
    let m = &rc.pipeline.model;
    let climatology = match m.trend {
        Trend::None => "the training climatology".to_string(),
        Trend::Global => format!(
            "a climatology following the training period's global-mean trend \
             ({:+.3} degC per decade)",
            per_decade(pr.trend_slope, pr.cube.freq)
        ),
    };
    let source = format!(
        "sstcast {} ({}): one seq2seq {}-layer {} encoder-decoder (hidden {}, window {}, horizon {}) per region, mean of {} seed(s), correcting damped persistence about {climatology}; burn {}",
        env!("CARGO_PKG_VERSION"),
        rc.config_path.display(),
        m.layers,
        match m.cell {
            crate::model::CellKind::Gru => "GRU",
            crate::model::CellKind::Lstm => "LSTM",
        },
        m.hidden,
        m.window,
        m.horizon,
        m.ensemble.max(1),
        "0.22.1",
    );
    let history = format!(
        "{}: {} (sstcast {})",
        now_utc(),
        rc.command_line,
        env!("CARGO_PKG_VERSION")
    );
    (source, history)
}

fn write_netcdf(
    path: &Path,
    rc: &RunConfig,
    pr: &Prepared,
    fc: &Forecast,
) -> Result<(), PipelineError> {
    let (files, product) = (&pr.files, &pr.product);
    let (source, history) = provenance(rc, pr);
    let f = ForecastFile {
        grid: &fc.grid,
        freq: fc.freq,
        first: fc.first,
        values: &fc.values,
        title: format!(
            "sstcast {} sea surface temperature forecast for {} from {}",
            rc.pipeline.name(),
            rc.year,
            product
        ),
        source,
        history,
        comment: format!(
            "Forecast reference time {}: models were trained only on data before it and decoded autoregressively. Cells outside every forecast region are fill.",
            fc.first.label(fc.freq)
        ),
        config: rc.config_text.clone(),
        inputs: files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    nc::write_forecast(path, &f)?;
    Ok(())
}

fn write_geotiff(
    path: &Path,
    rc: &RunConfig,
    pr: &Prepared,
    fc: &Forecast,
) -> Result<(), PipelineError> {
    let product = &pr.product;
    let bands: Vec<Vec<f32>> = (0..fc.horizon).map(|k| fc.lead(k).to_vec()).collect();
    let unit = match fc.freq {
        Frequency::Monthly => "month",
        Frequency::Annual => "year",
    };
    let names: Vec<String> = (0..fc.horizon)
        .map(|k| {
            format!(
                "{} (lead {} {unit}{})",
                Period(fc.first.0 + k as i64).label(fc.freq),
                k + 1,
                if k == 0 { "" } else { "s" }
            )
        })
        .collect();
    let (source, _) = provenance(rc, pr);
    let meta = vec![
        ("units".to_string(), "degC".to_string()),
        (
            "variable".to_string(),
            "sea_surface_temperature".to_string(),
        ),
        ("product".to_string(), product.to_string()),
        ("source".to_string(), source),
        (
            "forecast_reference_time".to_string(),
            fc.first.label(fc.freq),
        ),
    ];
    geotiff::write_geotiff(path, &fc.grid.lat, &fc.grid.lon, &bands, &names, &meta)?;
    Ok(())
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (no time-zone crate needed).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ax = crate::time::TimeAxis::parse(
        "seconds since 1970-01-01",
        crate::time::Calendar::ProlepticGregorian,
    )
    .expect("constant units");
    let d = ax.date(secs as f64).expect("finite");
    let s = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        d,
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

/// Reads input files into the cube of the pipeline's temporal mode, with short gaps in the
/// training months (before `year`) filled.
fn read_files(files: &[PathBuf], p: &PipelineConfig, year: i64) -> Result<Cube, PipelineError> {
    let mut monthly = nc::read_cube(files, p.input.variable.as_deref())?;
    if let Some(first) = p.input.first_year {
        monthly = monthly.since(Period::month(first, 1));
    }
    crate::gaps::fill_short_gaps(&mut monthly, Period::year_start(year, Frequency::Monthly));
    Ok(match p.temporal {
        Frequency::Monthly => monthly,
        Frequency::Annual => monthly.annual_means(),
    })
}
