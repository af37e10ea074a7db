//! Forecasting the whole domain: one model per region, fitted in parallel, decoded
//! autoregressively, assembled back onto the grid.
//!
//! The honesty rules of sstcast live here, in one place:
//! - the forecast **origin** is the first period of the target year (`Y-01` monthly, `Y`
//!   annual); the training series is cut at the origin **before** anything else happens, so
//!   the ocean mask, the normalisation and every training window come from earlier data only;
//! - inference feeds the model its own outputs ([`crate::model::Seq2Seq::forecast`]), never
//!   observed values after the origin.
//!
//! A test poisons every value from the origin on and checks that the forecast does not move.
//!
//! Parallelism: regions are independent, so they are fitted on a rayon pool of `threads`
//! workers, one region per worker at a time. Each region's randomness comes from
//! `seed` and a hash of its id, so the result does not depend on the thread count.
//!
//! Operations ([`fit_regions`] with a [`Resume`]): each fitted region is saved at once
//! ([`crate::checkpoint`]); regions saved by an earlier run (or by other Slurm array tasks)
//! are loaded instead of fitted; a shard fits only its own regions ([`crate::shard`]); a stop
//! request ([`crate::ops::signal`]) lets the regions in flight finish and save but starts no
//! new one. Assembly always walks the regions in the same order, so outputs assembled from
//! saved results are identical to those of an uninterrupted run.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::checkpoint::{CheckpointError, RegionStore};
use crate::dataset::{trend_slope, Normaliser};
use crate::device::DeviceChoice;
use crate::grid::{Cube, LatLon};
use crate::model::ModelShape;
use crate::region::Region;
use crate::shard::Shard;
use crate::time::{Frequency, Period};
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
    /// Device the fits run on.
    pub device: DeviceChoice,
    /// Slope, in degrees per step, of the trend line the models' climatology follows
    /// ([`global_trend`] for `trend: global`; 0 = a fixed climatology).
    pub trend_slope: f64,
}

/// How the region loop saves, reuses and selects regions (a run with outputs on disk).
#[derive(Debug, Clone)]
pub struct Resume<'a> {
    /// Where fitted regions are saved and earlier results are found.
    pub store: &'a RegionStore,
    /// Refit every region even when a saved result exists.
    pub force: bool,
    /// Fit only this shard's regions.
    pub shard: Option<Shard>,
    /// Test hook: send SIGTERM to this process after this many regions were fitted and saved.
    pub stop_after: Option<usize>,
}

/// What the region loop did.
#[derive(Debug)]
pub struct Fitted {
    /// Results (fitted or loaded) in the order of the input regions.
    pub regions: Vec<RegionForecast>,
    /// How many were loaded from earlier results.
    pub loaded: usize,
    /// How many were fitted now.
    pub fitted: usize,
    /// Regions not started because a stop was requested.
    pub not_started: Vec<String>,
}

/// One region's forecast.
#[derive(Debug, Clone)]
pub struct RegionForecast {
    /// Region id.
    pub id: String,
    /// Its cells.
    pub cells: Vec<usize>,
    /// `[lead][channel]`, degC.
    pub values: Vec<f32>,
    /// Training loss per epoch (first ensemble member).
    pub losses: Vec<f32>,
    /// Validation loss before training and per epoch (first ensemble member).
    pub val_losses: Vec<f32>,
    /// Epoch kept by early stopping, per ensemble member.
    pub best_epochs: Vec<usize>,
    /// The trained models, one per ensemble member (empty for results loaded back from a
    /// checkpoint, whose weights stay on disk).
    pub models: Vec<crate::model::Seq2Seq>,
}

/// The assembled forecast.
#[derive(Debug, Clone)]
pub struct Forecast {
    /// Grid.
    pub grid: LatLon,
    /// Step frequency.
    pub freq: Frequency,
    /// Period of lead 1 (the origin).
    pub first: Period,
    /// Number of leads.
    pub horizon: usize,
    /// `[lead][cell]`, degC, NaN outside every region.
    pub values: Vec<f32>,
    /// Per-region results.
    pub regions: Vec<RegionForecast>,
}

impl Forecast {
    /// Map of lead `k` (0-based).
    pub fn lead(&self, k: usize) -> &[f32] {
        let n = self.grid.ncells();
        &self.values[k * n..(k + 1) * n]
    }

    /// Mean over all leads, per cell (NaN where any lead is NaN).
    pub fn mean_over_leads(&self) -> Vec<f32> {
        let n = self.grid.ncells();
        (0..n)
            .map(|c| {
                (0..self.horizon)
                    .map(|k| self.values[k * n + c])
                    .sum::<f32>()
                    / self.horizon as f32
            })
            .collect()
    }
}

/// Why a forecast cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// The data start at or after the origin.
    #[error("the input starts at {data_start}, so there is no training data before the forecast start {origin}")]
    NoTrainingData {
        /// First period of the input.
        data_start: String,
        /// Forecast origin.
        origin: String,
    },
    /// The data end before the month before the origin.
    #[error("the input ends at {data_end}; a forecast from {origin} needs data up to the step just before it")]
    DataEndsEarly {
        /// Last period of the input.
        data_end: String,
        /// Forecast origin.
        origin: String,
    },
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
    /// No cell has a complete training record.
    #[error("no ocean cell has a complete record over the {steps} training steps before {origin}")]
    NoOcean {
        /// Training steps.
        steps: usize,
        /// Forecast origin.
        origin: String,
    },
    /// A fitted region could not be saved.
    #[error(transparent)]
    Save(#[from] CheckpointError),
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

/// Number of training steps (those before `origin`), checking the data reach the origin.
pub fn training_steps(cube: &Cube, origin: Period) -> Result<usize, ForecastError> {
    let label = |p: Period| p.label(cube.freq);
    if cube.start >= origin {
        return Err(ForecastError::NoTrainingData {
            data_start: label(cube.start),
            origin: label(origin),
        });
    }
    if cube.end() < origin {
        return Err(ForecastError::DataEndsEarly {
            data_end: label(Period(cube.end().0 - 1)),
            origin: label(origin),
        });
    }
    Ok((origin.0 - cube.start.0) as usize)
}

/// Cells with a valid value at every one of the first `steps` steps.
pub fn ocean_mask(cube: &Cube, steps: usize) -> Vec<bool> {
    let n = cube.grid.ncells();
    let mut mask = vec![true; n];
    for t in 0..steps {
        for (m, v) in mask.iter_mut().zip(cube.step(t)) {
            *m &= v.is_finite();
        }
    }
    mask
}

/// The trend of the ocean over the first `steps` steps, in degrees per step: the slope
/// ([`trend_slope`]) of the area-weighted (cos latitude) mean anomaly of the cells valid at
/// every one of those steps, each cell's anomaly taken about its own seasonal mean.
/// Computed from the whole grid, not per region, so every region (and every Slurm shard)
/// uses the same number; it reads nothing from `steps` on.
pub fn global_trend(cube: &Cube, steps: usize) -> f64 {
    let mask = ocean_mask(cube, steps);
    let weights = cube.grid.area_weights();
    let cells: Vec<usize> = (0..mask.len()).filter(|&k| mask[k]).collect();
    let total: f64 = cells.iter().map(|&k| weights[k]).sum();
    if cells.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let raw = cube.series(steps, &cells);
    let norm = Normaliser::fit(&raw, cells.len(), cube.start, cube.freq);
    let mean: Vec<f64> = (0..steps)
        .map(|t| {
            let p = Period(cube.start.0 + t as i64);
            let row = &raw[t * cells.len()..(t + 1) * cells.len()];
            let s: f64 = row
                .iter()
                .zip(&cells)
                .enumerate()
                .map(|(c, (&v, &k))| weights[k] * (v - norm.climatology(p, c)) as f64)
                .sum();
            s / total
        })
        .collect();
    trend_slope(&mean, cube.start, cube.freq)
}

/// Fits every region on the steps before `origin` and forecasts `horizon` steps from it.
pub fn run(
    cube: &Cube,
    origin: Period,
    regions: &[Region],
    plan: &FitPlan,
    progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<Forecast, ForecastError> {
    let fitted = fit_regions(cube, origin, regions, plan, None, progress)?;
    Ok(assemble(
        cube,
        origin,
        plan.settings.horizon,
        fitted.regions,
    ))
}

/// Checks that the training record is long enough for the plan; returns the training steps.
pub fn check_plan(cube: &Cube, origin: Period, plan: &FitPlan) -> Result<usize, ForecastError> {
    let steps = training_steps(cube, origin)?;
    let needed = plan.settings.window + plan.settings.horizon;
    if steps < needed {
        return Err(ForecastError::TooShort {
            steps,
            needed,
            origin: origin.label(cube.freq),
        });
    }
    Ok(steps)
}

/// The region loop: loads saved results (with `resume`), fits the rest in parallel, saves
/// each fitted region at once, and stops starting regions when a stop is requested.
/// `progress` is called for every region fitted now.
pub fn fit_regions(
    cube: &Cube,
    origin: Period,
    regions: &[Region],
    plan: &FitPlan,
    resume: Option<&Resume<'_>>,
    progress: &(dyn Fn(&RegionForecast) + Sync),
) -> Result<Fitted, ForecastError> {
    let steps = check_plan(cube, origin, plan)?;
    crate::device::select(plan.device);
    let horizon = plan.settings.horizon;
    let mine: Vec<&Region> = regions
        .iter()
        .filter(|r| {
            resume
                .and_then(|x| x.shard)
                .is_none_or(|s| s.contains(&r.id))
        })
        .collect();
    // Earlier results first (cheap, sequential), then the fits.
    let mut slots: Vec<Option<RegionForecast>> = mine
        .iter()
        .map(|r| match resume {
            Some(x) if !x.force => x.store.load(r, horizon * r.cells.len()).map(|(f, _)| f),
            _ => None,
        })
        .collect();
    let loaded = slots.iter().filter(|s| s.is_some()).count();
    let todo: Vec<usize> = (0..mine.len()).filter(|&i| slots[i].is_none()).collect();
    match resume {
        Some(x) => tracing::info!(
            "regions{}: {} in this run, {} already fitted (loaded from {}), {} to fit",
            x.shard
                .map(|s| format!(" of shard {s}"))
                .unwrap_or_default(),
            mine.len(),
            loaded,
            x.store.dir().display(),
            todo.len()
        ),
        None => tracing::debug!("{} regions to fit", todo.len()),
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads.max(1))
        .thread_name(|i| format!("sstcast-fit-{i}"))
        .build()
        .expect("rayon pool");
    let done = AtomicUsize::new(0);
    // Largest regions first, each worker taking the next region from one shared queue
    // (greedy longest-processing-time scheduling): the run does not end with one thread
    // fitting a 130-cell box while the others idle. Which thread fits a region does not
    // change its result (each fit is seeded by region), so the outputs do not depend on it.
    let mut queue = todo.clone();
    queue.sort_by_key(|&i| std::cmp::Reverse(mine[i].cells.len()));
    let next = AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let fit_one = |i: usize| -> Result<Option<RegionForecast>, ForecastError> {
        if crate::ops::signal::stop_requested() {
            return Ok(None);
        }
        let f = fit_region(cube, steps, origin, mine[i], plan)?;
        if let Some(x) = resume {
            // A shard's saved results are its only output: failing to save is an
            // error. A whole run can still write its outputs (a full disk then
            // fails there, naming the output): it only loses resumability.
            match x.store.save(&f, x.shard.map(|s| s.to_string())) {
                Err(e) if x.shard.is_none() => {
                    tracing::warn!("{e}; a rerun will fit region {} again", f.id)
                }
                r => r?,
            }
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            if x.stop_after == Some(n) {
                crate::ops::signal::send_sigterm_to_self();
            }
        }
        progress(&f);
        Ok(Some(f))
    };
    let per_worker = pool.broadcast(|_| {
        let mut out = Vec::new();
        while !failed.load(Ordering::SeqCst) {
            let k = next.fetch_add(1, Ordering::SeqCst);
            let Some(&i) = queue.get(k) else { break };
            let r = fit_one(i);
            if r.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            out.push((i, r));
        }
        out
    });
    let mut results: Vec<(usize, Result<Option<RegionForecast>, ForecastError>)> =
        per_worker.into_iter().flatten().collect();
    results.sort_by_key(|(i, _)| *i);
    if let Some(x) = resume {
        // The saved regions are flushed once here, not one by one (crate::checkpoint docs).
        match x.store.sync() {
            Err(e) if x.shard.is_none() => tracing::warn!("{e}"),
            r => r?,
        }
    }
    let mut fitted = 0;
    for (i, r) in results {
        if let Some(f) = r? {
            slots[i] = Some(f);
            fitted += 1;
        }
    }
    let not_started = mine
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

fn fit_region(
    cube: &Cube,
    steps: usize,
    origin: Period,
    region: &Region,
    plan: &FitPlan,
) -> Result<RegionForecast, ForecastError> {
    let ch = region.cells.len();
    // The training series, cut at the origin: nothing later is ever read.
    let raw = cube.series(steps, &region.cells);
    let norm = Normaliser::fit_with_trend(&raw, ch, cube.start, cube.freq, plan.trend_slope);
    let series = norm.encode_series(&raw, cube.start);
    let shape = ModelShape {
        channels: ch,
        ..plan.shape
    };
    let window = plan.settings.window;
    let input = &series[(steps - window) * ch..];
    let mut mean = vec![0.0f32; plan.settings.horizon * ch];
    let mut fits = Vec::with_capacity(plan.ensemble);
    for member in 0..plan.ensemble.max(1) {
        let seed = plan.seed.wrapping_add(member as u64) ^ fnv1a(region.id.as_bytes());
        let fit = train::fit(&series, shape, &plan.settings, seed).map_err(|source| {
            ForecastError::Train {
                region: region.id.clone(),
                source,
            }
        })?;
        for (m, p) in mean.iter_mut().zip(train::predict(&fit, input, ch)) {
            *m += p / plan.ensemble.max(1) as f32;
        }
        fits.push(fit);
    }
    let values = mean
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let (lead, c) = (k / ch, k % ch);
            norm.decode(a, Period(origin.0 + lead as i64), c)
        })
        .collect();
    let best_epochs = fits.iter().map(|f| f.best_epoch).collect();
    let models = fits.iter().map(|f| f.model.clone()).collect();
    let first = fits.swap_remove(0);
    Ok(RegionForecast {
        id: region.id.clone(),
        cells: region.cells.clone(),
        values,
        losses: first.losses,
        val_losses: first.val_losses,
        best_epochs,
        models,
    })
}

/// Puts region forecasts on the grid (cells in several regions get their mean, summed in
/// the order of `regions`).
pub fn assemble(
    cube: &Cube,
    origin: Period,
    horizon: usize,
    regions: Vec<RegionForecast>,
) -> Forecast {
    let n = cube.grid.ncells();
    let mut sum = vec![0.0f64; horizon * n];
    let mut count = vec![0u32; horizon * n];
    for r in &regions {
        let ch = r.cells.len();
        for lead in 0..horizon {
            for (c, &cell) in r.cells.iter().enumerate() {
                sum[lead * n + cell] += r.values[lead * ch + c] as f64;
                count[lead * n + cell] += 1;
            }
        }
    }
    let values = sum
        .iter()
        .zip(&count)
        .map(|(&s, &k)| {
            if k == 0 {
                f32::NAN
            } else {
                (s / k as f64) as f32
            }
        })
        .collect();
    Forecast {
        grid: cube.grid.clone(),
        freq: cube.freq,
        first: origin,
        horizon,
        values,
        regions,
    }
}

/// FNV-1a: a stable, dependency-free hash for per-region seeds.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tests::cube;
    use crate::model::CellKind;
    use crate::region;

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
            },
            ensemble: 1,
            seed: 11,
            threads,
            device: DeviceChoice::Cpu,
            trend_slope: 0.0,
        }
    }

    /// 4 x 4 cells, 2015-01 .. 2018-12, seasonal cycle + trend; cell 5 is land.
    fn data() -> Cube {
        cube(4, 4, Period::month(2015, 1), 48, |t, c| {
            if c == 5 {
                f32::NAN
            } else {
                15.0 + 5.0 * ((t % 12) as f32 * 0.52).sin() + 0.01 * t as f32 + 0.3 * c as f32
            }
        })
    }

    fn forecast_with(c: &Cube, plan: &FitPlan) -> Forecast {
        let origin = Period::month(2018, 1);
        let steps = training_steps(c, origin).unwrap();
        let mask = ocean_mask(c, steps);
        let regions = region::build(&c.grid, &mask, Some([2, 2]), &[]).unwrap();
        run(c, origin, &regions, plan, &|_| {}).unwrap()
    }

    fn forecast(c: &Cube, threads: usize) -> Forecast {
        forecast_with(c, &plan(threads))
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

    /// The global trend is the slope of the area-weighted mean anomaly: 0.01 per month in
    /// the test data (every ocean cell warms alike), land and the future left out.
    #[test]
    fn global_trend_is_the_ocean_mean_slope() {
        let c = data();
        let steps = training_steps(&c, Period::month(2018, 1)).unwrap();
        assert!((global_trend(&c, steps) - 0.01).abs() < 1e-5);
        // Cells warming at different rates: the slope is their area-weighted mean. Rows 0
        // and 1 (the first eight cells) warm by 0.02, rows 2 and 3 by 0.
        let mixed = cube(4, 4, Period::month(2015, 1), 48, |t, k| {
            let rate = if k < 8 { 0.02 } else { 0.0 };
            10.0 + ((t % 12) as f32) + rate * t as f32
        });
        let w = mixed.grid.area_weights();
        let expect = 0.02 * w[..8].iter().sum::<f64>() / w.iter().sum::<f64>();
        assert!((global_trend(&mixed, 36) - expect).abs() < 1e-5);
    }

    #[test]
    fn thread_count_does_not_change_the_result() {
        let c = data();
        let a = forecast(&c, 1);
        let b = forecast(&c, 2);
        let bits = |f: &Forecast| f.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a.regions.len(), 4);
    }

    #[test]
    fn origin_outside_data_is_refused() {
        let c = data();
        assert!(matches!(
            training_steps(&c, Period::month(2015, 1)),
            Err(ForecastError::NoTrainingData { .. })
        ));
        assert!(matches!(
            training_steps(&c, Period::month(2020, 1)),
            Err(ForecastError::DataEndsEarly { .. })
        ));
        // The data end in December 2018: a 2019 forecast is allowed (nothing to verify).
        assert_eq!(training_steps(&c, Period::month(2019, 1)).unwrap(), 48);
    }
}
