//! The fitting stage: one model (or an ensemble of them) per region, all regions in parallel,
//! each decoding its forecast autoregressively from the last window before the origin.
//!
//! The honesty rules of sstcast live here, in one place:
//! - the forecast **origin** is the first period forecast (`Y-01` monthly, `Y` annual); the
//!   training series is cut at the origin **before** anything else happens, so the
//!   normalisation and every training window come from earlier data only (the ocean mask and
//!   the trend, computed grid-wide in [`crate::dataset::prep`], follow the same rule);
//! - inference feeds the model its own outputs ([`crate::train::predict`]), never observed
//!   values at or after the origin.
//!
//! A test poisons every value from the origin on and checks that the forecast does not move.
//!
//! Parallelism: regions are independent, so they are fitted on a rayon pool of `threads`
//! workers, largest region first from one shared queue. Each region's randomness comes from
//! the seed and a stable hash of its id ([`crate::hash::fnv1a`]), so the result depends on
//! neither the thread count nor which worker fits it.
//!
//! This stage knows nothing of checkpoint files, Slurm shards or signals. It takes a
//! [`RegionCache`] (results saved by earlier runs are loaded instead of fitted, and every
//! fitted region is handed to it at once) and a stop hook (asked before each region is
//! started: when it says stop, the regions in flight finish and no new one starts). The
//! pipeline plugs the checkpoint store, the shard's share of the regions and the signal flag
//! into these ([`crate::pipeline`], [`crate::ops`]).
//!
//! What a region produces is split in two: [`RegionForecast`], the values that go onto the
//! grid ([`crate::forecast::assemble`]), and [`FitRecord`], how the fit went (losses, kept
//! epochs, the trained weights) for the loss figures and the checkpoint.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::dataset::drivers::Drivers;
use crate::dataset::prep::{training_steps, DatasetError};
use crate::dataset::Normaliser;
use crate::error_class::ErrorClass;
use crate::grid::Cube;
use crate::hash::fnv1a;
use crate::model::{ModelShape, Seq2Seq};
use crate::region::Region;
use crate::time::Period;
use crate::train::{self, TrainError, TrainSettings};

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitPlan {
    /// Model template (channels are set per region).
    pub shape: ModelShape,
    /// Optimisation settings.
    pub settings: TrainSettings,
    /// Models per region (their forecasts are averaged).
    pub ensemble: usize,
    /// Run seed.
    pub seed: u64,
    /// Worker threads for regions.
    pub threads: usize,
    /// Slope, in degrees per step, of the trend line the models' climatology follows
    /// ([`crate::dataset::prep::global_trend`] for `trend: global`; 0 = a fixed climatology).
    pub trend_slope: f64,
    /// Where forecasts start, in order; empty: at the origin only. Every start is at or after
    /// the origin, and a start's forecast reads only observed steps before that start (a
    /// hindcast: one fit, many starts).
    pub starts: Vec<Period>,
    /// Keep every ensemble member's forecast ([`RegionForecast::members`]) besides the mean.
    pub keep_members: bool,
    /// Leading principal components of the whole domain's anomalies given to every region's
    /// model as extra channels ([`crate::dataset::drivers`]); 0 = the region's cells only.
    pub drivers: usize,
}

impl FitPlan {
    /// The forecast starts: [`FitPlan::starts`], or the origin alone.
    pub fn starts_or(&self, origin: Period) -> Vec<Period> {
        if self.starts.is_empty() {
            vec![origin]
        } else {
            self.starts.clone()
        }
    }
}

/// One region's forecast: the values that go onto the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionForecast {
    /// Region id.
    pub id: String,
    /// Its cells (flat grid indices).
    pub cells: Vec<usize>,
    /// `[start][lead][channel]`, degC: the ensemble mean (one start for a forecast).
    pub values: Vec<f32>,
    /// Each ensemble member's values in the same layout, when the plan keeps them
    /// ([`FitPlan::keep_members`]); else empty.
    pub members: Vec<Vec<f32>>,
}

/// How one region's fit went.
#[derive(Debug, Clone, Default)]
pub struct FitRecord {
    /// Training loss per epoch (first ensemble member).
    pub losses: Vec<f32>,
    /// Validation loss before training and per epoch (first ensemble member).
    pub val_losses: Vec<f32>,
    /// Epoch kept by early stopping, per ensemble member.
    pub best_epochs: Vec<usize>,
    /// The trained models, one per ensemble member (empty for results loaded back from a
    /// cache, whose weights stay where the cache keeps them).
    pub models: Vec<Seq2Seq>,
}

impl FitRecord {
    /// Ensemble members that kept trained weights (epoch > 0) through the validation gate.
    pub fn kept_members(&self) -> usize {
        self.best_epochs.iter().filter(|&&e| e > 0).count()
    }
}

/// A fitted (or loaded) region: its forecast and its fit record.
#[derive(Debug, Clone)]
pub struct RegionFit {
    /// The values.
    pub forecast: RegionForecast,
    /// How they were obtained.
    pub record: FitRecord,
}

/// Why a cache could not keep a fitted region, with the class of the failure.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct CacheError {
    /// What failed.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// Its class (a full disk is I/O, an unwritable directory cannot-create).
    pub class: ErrorClass,
}

/// Where the results of earlier runs are found and new ones are kept.
pub trait RegionCache: Sync {
    /// A result saved earlier for `region` holding `values` values, if any.
    fn load(&self, region: &Region, values: usize) -> Option<RegionFit>;
    /// Keeps a region's result as soon as it is fitted. An error ends the fitting.
    fn save(&self, fit: &RegionFit) -> Result<(), CacheError>;
    /// For the log: what the regions are (e.g. " of shard 0/4") and where saved results come
    /// from; `None` for a cache that keeps nothing.
    fn describe(&self) -> Option<(String, String)> {
        None
    }
}

/// The cache that keeps nothing (a fit from scratch, in memory).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCache;

impl RegionCache for NoCache {
    fn load(&self, _: &Region, _: usize) -> Option<RegionFit> {
        None
    }
    fn save(&self, _: &RegionFit) -> Result<(), CacheError> {
        Ok(())
    }
}

/// What the region loop did.
#[derive(Debug)]
pub struct Fitted {
    /// Results (fitted or loaded) in the order of the input regions.
    pub regions: Vec<RegionFit>,
    /// How many were loaded from the cache.
    pub loaded: usize,
    /// How many were fitted now.
    pub fitted: usize,
    /// Regions not started because a stop was requested.
    pub not_started: Vec<String>,
}

/// Why the regions cannot be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The input does not reach the origin or starts after it.
    #[error(transparent)]
    Data(#[from] DatasetError),
    /// Too few training steps for one window.
    #[error("{steps} training steps before {origin} are fewer than model.window + model.horizon = {needed}")]
    TooShort {
        /// Training steps.
        steps: usize,
        /// window + horizon.
        needed: usize,
        /// Forecast origin.
        origin: String,
    },
    /// A forecast start before the origin or after the step following the input's last.
    #[error("forecast start {start} is outside {origin}..{last} (a start must follow the training period and have its input window observed)")]
    Start {
        /// The start.
        start: String,
        /// The origin (first step after the training period).
        origin: String,
        /// The step after the input's last.
        last: String,
    },
    /// A fitted region could not be saved.
    #[error(transparent)]
    Save(#[from] CacheError),
    /// A region's fit failed.
    #[error("region {region}: {source}")]
    Train {
        /// Region id.
        region: String,
        /// Why.
        #[source]
        source: TrainError,
    },
}

impl FitError {
    /// The class of the failure: the cache's own for a failed save, else the data's.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Save(e) => e.class,
            Self::Data(e) => e.class(),
            Self::TooShort { .. } | Self::Train { .. } => ErrorClass::Data,
            Self::Start { .. } => ErrorClass::Config,
        }
    }
}

/// Checks that the training record is long enough for the plan; returns the training steps.
pub fn check_plan(cube: &Cube, origin: Period, plan: &FitPlan) -> Result<usize, FitError> {
    let steps = training_steps(cube, origin)?;
    let needed = plan.settings.window + plan.settings.horizon;
    if steps < needed {
        return Err(FitError::TooShort {
            steps,
            needed,
            origin: origin.label(cube.freq),
        });
    }
    Ok(steps)
}

/// The region loop: loads what `cache` holds, fits the rest in parallel, hands each fitted
/// region to `cache` at once, and starts no new region once `stop` says so. `progress` is
/// called for every region fitted now.
pub fn fit_regions(
    cube: &Cube,
    origin: Period,
    regions: &[Region],
    plan: &FitPlan,
    cache: &dyn RegionCache,
    stop: &(dyn Fn() -> bool + Sync),
    progress: &(dyn Fn(&RegionFit) + Sync),
) -> Result<Fitted, FitError> {
    let steps = check_plan(cube, origin, plan)?;
    let starts = plan.starts_or(origin);
    check_starts(cube, origin, &starts)?;
    let horizon = plan.settings.horizon * starts.len();
    // Earlier results first (cheap, sequential), then the fits.
    let mut slots: Vec<Option<RegionFit>> = regions
        .iter()
        .map(|r| cache.load(r, horizon * r.cells.len()))
        .collect();
    let loaded = slots.iter().filter(|s| s.is_some()).count();
    let todo: Vec<usize> = (0..regions.len()).filter(|&i| slots[i].is_none()).collect();
    match cache.describe() {
        Some((scope, source)) => tracing::info!(
            "regions{scope}: {} in this run, {loaded} already fitted (loaded from {source}), {} to fit",
            regions.len(),
            todo.len()
        ),
        None => tracing::debug!("{} regions to fit", todo.len()),
    }
    // The domain's leading modes, fitted once for all regions (and identically in every
    // Slurm shard), only when something is left to fit.
    let drivers = (plan.drivers > 0 && !todo.is_empty())
        .then(|| Drivers::fit(cube, steps, plan.drivers, plan.trend_slope));
    if let Some(d) = &drivers {
        tracing::info!(
            "drivers: {} leading modes of the domain's anomalies explain {:.0}% of their variance",
            d.modes(),
            100.0 * d.explained.iter().sum::<f64>()
        );
    }
    let fit_one = |i: usize| -> Result<Option<RegionFit>, FitError> {
        if stop() {
            return Ok(None);
        }
        let f = fit_region(cube, steps, &starts, &regions[i], plan, drivers.as_ref())?;
        cache.save(&f)?;
        progress(&f);
        Ok(Some(f))
    };
    // Largest regions first (greedy longest-processing-time scheduling): the run does not
    // end with one thread fitting a 130-cell box while the others idle.
    let mut queue = todo;
    queue.sort_by_key(|&i| std::cmp::Reverse(regions[i].cells.len()));
    let mut fitted = 0;
    for (i, r) in run_queue(&queue, plan.threads, fit_one) {
        if let Some(f) = r? {
            slots[i] = Some(f);
            fitted += 1;
        }
    }
    let not_started = regions
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(r, _)| r.id.clone())
        .collect();
    Ok(Fitted {
        regions: slots.into_iter().flatten().collect(),
        loaded,
        fitted,
        not_started,
    })
}

/// Runs `job` on every index of `queue` on `threads` workers, each taking the next index
/// from the shared queue; stops taking new ones after the first error. Returns the results
/// sorted by index. Which worker ran a job does not change its result.
fn run_queue<T: Send, E: Send>(
    queue: &[usize],
    threads: usize,
    job: impl Fn(usize) -> Result<T, E> + Sync,
) -> Vec<(usize, Result<T, E>)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .thread_name(|i| format!("sstcast-fit-{i}"))
        .build()
        .expect("rayon pool");
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let per_worker = pool.broadcast(|_| {
        let mut out = Vec::new();
        while !failed.load(Ordering::SeqCst) {
            let k = next.fetch_add(1, Ordering::SeqCst);
            let Some(&i) = queue.get(k) else { break };
            let r = job(i);
            if r.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            out.push((i, r));
        }
        out
    });
    let mut results: Vec<_> = per_worker.into_iter().flatten().collect();
    results.sort_by_key(|(i, _)| *i);
    results
}

/// Fits one region's ensemble on the first `steps` steps (those before the origin) and
/// decodes its forecast from every start.
fn fit_region(
    cube: &Cube,
    steps: usize,
    starts: &[Period],
    region: &Region,
    plan: &FitPlan,
    drivers: Option<&Drivers>,
) -> Result<RegionFit, FitError> {
    let ch = region.cells.len();
    // The training series, cut at the origin: nothing later is ever read for training.
    let raw = cube.series(steps, &region.cells);
    let norm = Normaliser::fit_with_trend(&raw, ch, cube.start, cube.freq, plan.trend_slope);
    let cells = norm.encode_series(&raw, cube.start);
    // The model's channels: the region's cells, then the domain's drivers (if any).
    let extra = drivers.map_or(0, Drivers::modes);
    let width = ch + extra;
    let series = Drivers::append(drivers, &cells, ch, 0);
    let shape = ModelShape {
        channels: width,
        ..plan.shape
    };
    let window = plan.settings.window;
    let inputs: Vec<Vec<f32>> = starts
        .iter()
        .map(|&s| {
            let own = start_input(cube, &cells, steps, s, region, &norm, window);
            let first = (s.0 - cube.start.0) as usize - window;
            Drivers::append(drivers, &own, ch, first)
        })
        .collect();
    let members = plan.ensemble.max(1);
    let per_start = plan.settings.horizon * ch;
    let mut mean = vec![0.0f32; starts.len() * per_start];
    let mut kept = Vec::new();
    let mut fits = Vec::with_capacity(members);
    for member in 0..members {
        let seed = plan.seed.wrapping_add(member as u64) ^ fnv1a(region.id.as_bytes());
        let training = train::Series {
            values: &series,
            start: cube.start,
            freq: cube.freq,
        };
        let fit = train::fit(training, shape, &plan.settings, seed).map_err(|source| {
            FitError::Train {
                region: region.id.clone(),
                source,
            }
        })?;
        let mut own = Vec::with_capacity(mean.len());
        for (input, start) in inputs.iter().zip(starts) {
            let last = Period(start.0 - 1);
            let out = train::predict(&fit, input, width, last, plan.settings.device);
            // The cells' forecasts; the drivers' own forecasts only fed the decoder.
            for lead in out.chunks(width) {
                own.extend_from_slice(&lead[..ch]);
            }
        }
        for (m, p) in mean.iter_mut().zip(&own) {
            *m += p / members as f32;
        }
        if plan.keep_members {
            kept.push(own);
        }
        fits.push(fit);
    }
    let decode = |a: &[f32]| -> Vec<f32> {
        a.iter()
            .enumerate()
            .map(|(k, &a)| {
                let (start, lead, c) = (k / per_start, (k % per_start) / ch, k % ch);
                norm.decode(a, Period(starts[start].0 + lead as i64), c)
            })
            .collect()
    };
    let values = decode(&mean);
    let members = kept.iter().map(|m| decode(m)).collect();
    let best_epochs = fits.iter().map(|f| f.best_epoch).collect();
    let models = fits.iter().map(|f| f.model.clone()).collect();
    let first = fits.swap_remove(0);
    Ok(RegionFit {
        forecast: RegionForecast {
            id: region.id.clone(),
            cells: region.cells.clone(),
            values,
            members,
        },
        record: FitRecord {
            losses: first.losses,
            val_losses: first.val_losses,
            best_epochs,
            models,
        },
    })
}

/// The model's input for a forecast from `start`: the encoded `window` steps before it.
/// At the origin these are the last training steps; later starts read the observed steps
/// before them (never one at or after the start), and a missing value there enters as the
/// climatology (anomaly 0), since gaps after the training period are not repaired.
fn start_input(
    cube: &Cube,
    series: &[f32],
    steps: usize,
    start: Period,
    region: &Region,
    norm: &Normaliser,
    window: usize,
) -> Vec<f32> {
    let ch = region.cells.len();
    let s = (start.0 - cube.start.0) as usize;
    if s == steps {
        return series[(steps - window) * ch..].to_vec();
    }
    let mut raw = Vec::with_capacity(window * ch);
    for t in s - window..s {
        let map = cube.step(t);
        raw.extend(region.cells.iter().map(|&k| map[k]));
    }
    let first = Period(cube.start.0 + (s - window) as i64);
    let mut input = norm.encode_series(&raw, first);
    for v in &mut input {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    input
}

/// Every start must be at or after the origin and inside the input (its window observed).
fn check_starts(cube: &Cube, origin: Period, starts: &[Period]) -> Result<(), FitError> {
    let last = Period(cube.start.0 + cube.len() as i64);
    for &s in starts {
        if s < origin || s > last {
            return Err(FitError::Start {
                start: s.label(cube.freq),
                origin: origin.label(cube.freq),
                last: last.label(cube.freq),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::prep::tests::data;
    use crate::dataset::prep::{global_trend, ocean_mask};
    use crate::forecast::{assemble, Forecast};
    use crate::model::CellKind;
    use crate::region;
    use crate::train::DeviceChoice;

    fn plan(threads: usize) -> FitPlan {
        FitPlan {
            shape: ModelShape {
                cell: CellKind::Gru,
                layers: 1,
                hidden: 6,
                channels: 0,
            },
            settings: TrainSettings {
                window: 12,
                horizon: 12,
                epochs: 3,
                batch: 8,
                learning_rate: 0.01,
                l2: 1e-5,
                validation: 12,
                patience: 5,
                min_improvement: 0.0,
                baseline: crate::train::BaselineKind::Seasonal { prior: 4.0 },
                decoder: crate::train::DecoderTraining::FreeRunning,
                device: DeviceChoice::Cpu,
            },
            ensemble: 1,
            seed: 11,
            threads,
            trend_slope: 0.0,
            starts: Vec::new(),
            keep_members: false,
            drivers: 2,
        }
    }

    fn regions(c: &Cube, origin: Period) -> Vec<Region> {
        let steps = training_steps(c, origin).unwrap();
        let mask = ocean_mask(c, steps);
        region::build(&c.grid, &mask, Some([2, 2]), &[]).unwrap()
    }

    fn forecast_with(c: &Cube, plan: &FitPlan) -> Forecast {
        let origin = Period::month(2018, 1);
        let regions = regions(c, origin);
        let fitted = fit_regions(c, origin, &regions, plan, &NoCache, &|| false, &|_| {}).unwrap();
        let values: Vec<RegionForecast> = fitted.regions.into_iter().map(|r| r.forecast).collect();
        assemble(c, origin, plan.settings.horizon, &regions, &values)
    }

    #[test]
    fn future_values_never_reach_the_forecast() {
        let clean = data();
        let mut poisoned = clean.clone();
        let origin_idx = clean.index_of(Period::month(2018, 1)).unwrap();
        let n = clean.grid.ncells();
        for (k, v) in poisoned.values[origin_idx * n..].iter_mut().enumerate() {
            *v = if k % 3 == 0 { f32::NAN } else { 1.0e6 };
        }
        let steps = training_steps(&clean, Period::month(2018, 1)).unwrap();
        for trend in [false, true] {
            // Each cube's own global trend: the poisoned future must not reach it either.
            let slope = |c: &Cube| if trend { global_trend(c, steps) } else { 0.0 };
            let with = |c: &Cube| FitPlan {
                trend_slope: slope(c),
                ..plan(1)
            };
            let a = forecast_with(&clean, &with(&clean));
            let b = forecast_with(&poisoned, &with(&poisoned));
            assert_eq!(a.values.len(), 12 * n);
            for (x, y) in a.values.iter().zip(&b.values) {
                assert!(x.to_bits() == y.to_bits(), "trend {trend}: {x} vs {y}");
            }
            // And the forecast is a real, plausible field: land NaN, ocean finite, near 15.
            assert!(a.lead(0)[5].is_nan());
            assert!(a.lead(0)[0].is_finite() && (a.lead(0)[0] - 15.0).abs() < 10.0);
        }
    }

    /// A hindcast start in May: nothing at or after it reaches its forecast (one fit, many
    /// starts; the start after the poison shows the test can fail).
    #[test]
    fn a_may_start_sees_nothing_from_may_on() {
        let clean = data();
        let origin = Period::month(2018, 1);
        let may = Period::month(2018, 5);
        let mut poisoned = clean.clone();
        let n = clean.grid.ncells();
        let at = clean.index_of(may).unwrap();
        for (k, v) in poisoned.values[at * n..].iter_mut().enumerate() {
            *v = if k % 3 == 0 { f32::NAN } else { 1.0e6 };
        }
        let starts = vec![origin, may, Period::month(2018, 8)];
        let p = FitPlan {
            starts: starts.clone(),
            keep_members: true,
            ensemble: 2,
            ..plan(1)
        };
        let regions = regions(&clean, origin);
        let run = |c: &Cube| {
            let f = fit_regions(c, origin, &regions, &p, &NoCache, &|| false, &|_| {}).unwrap();
            f.regions
                .into_iter()
                .map(|r| r.forecast)
                .collect::<Vec<_>>()
        };
        let (a, b) = (run(&clean), run(&poisoned));
        let block = |r: &RegionForecast, i: usize| {
            let len = 12 * r.cells.len();
            r.values[i * len..(i + 1) * len].to_vec()
        };
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.values.len(), 3 * 12 * x.cells.len());
            for i in [0, 1] {
                let (u, v) = (block(x, i), block(y, i));
                assert!(u.iter().zip(&v).all(|(u, v)| u.to_bits() == v.to_bits()));
                assert!(u.iter().all(|v| v.is_finite()));
            }
            assert_ne!(block(x, 2), block(y, 2), "the August start reads May..July");
            // The mean is the members' mean, member by member in the same layout.
            assert_eq!(x.members.len(), 2);
            for (k, m) in x.values.iter().enumerate() {
                let avg = (x.members[0][k] + x.members[1][k]) / 2.0;
                assert!((m - avg).abs() < 1e-3, "{m} vs {avg}");
            }
        }
        // The forecast from the origin is the plain forecast's.
        let plain = run_plain(&clean, origin, &regions);
        for (x, y) in a.iter().zip(&plain) {
            assert_eq!(block(x, 0), y.values);
        }
    }

    fn run_plain(c: &Cube, origin: Period, regions: &[Region]) -> Vec<RegionForecast> {
        let p = FitPlan {
            ensemble: 2,
            ..plan(1)
        };
        let f = fit_regions(c, origin, regions, &p, &NoCache, &|| false, &|_| {}).unwrap();
        f.regions.into_iter().map(|r| r.forecast).collect()
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let c = data();
        let a = forecast_with(&c, &plan(1));
        let b = forecast_with(&c, &plan(2));
        let bits = |f: &Forecast| f.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.regions.len(), 4);
    }

    /// A cache that hands back one region and records what is saved; a stop hook that
    /// stops after the first fit.
    #[test]
    fn cache_results_are_used_and_a_stop_starts_no_new_region() {
        use std::sync::Mutex;
        struct Memo {
            held: RegionFit,
            saved: Mutex<Vec<String>>,
        }
        impl RegionCache for Memo {
            fn load(&self, r: &Region, _: usize) -> Option<RegionFit> {
                (r.id == self.held.forecast.id).then(|| self.held.clone())
            }
            fn save(&self, f: &RegionFit) -> Result<(), CacheError> {
                self.saved.lock().unwrap().push(f.forecast.id.clone());
                Ok(())
            }
        }
        let c = data();
        let origin = Period::month(2018, 1);
        let regions = regions(&c, origin);
        let p = plan(1);
        let first = fit_regions(&c, origin, &regions, &p, &NoCache, &|| false, &|_| {}).unwrap();
        let memo = Memo {
            held: first.regions[0].clone(),
            saved: Mutex::new(Vec::new()),
        };
        let stop = AtomicBool::new(false);
        let again = fit_regions(
            &c,
            origin,
            &regions,
            &p,
            &memo,
            &|| stop.load(Ordering::SeqCst),
            &|_| stop.store(true, Ordering::SeqCst),
        )
        .unwrap();
        assert_eq!((again.loaded, again.fitted), (1, 1));
        assert_eq!(again.not_started.len(), 2);
        assert_eq!(memo.saved.lock().unwrap().len(), 1);
        assert_eq!(again.regions[0].forecast, first.regions[0].forecast);
    }
}
