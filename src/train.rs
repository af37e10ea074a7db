//! Fitting one region's forecaster: mini-batch Adam with teacher forcing.
//!
//! The loop is deliberately plain: shuffled windows from the training period, mean squared
//! error on standardised anomalies, Adam with coupled L2 (`l2`) and gradient-norm clipping
//! at 1 (recurrent nets occasionally produce a large gradient early on; clipping keeps one
//! bad batch from ruining a fit).
//!
//! Validation is time-ordered: the windows whose targets end in the last `validation` steps
//! of the training period (the last training year by default) are held out; the model is
//! trained on the windows whose targets end before them, and the weights of the epoch with
//! the lowest validation loss are kept (early stopping after `patience` epochs without
//! improvement). The model starts as damped persistence (see [`crate::model`]), so the
//! validation loss of epoch 0 is that baseline's, and a fit never keeps weights that do worse
//! than it on the held-out year. All randomness (initial weights, shuffling) comes from a
//! per-region RNG seeded from the run seed and the region id, so a fit does not depend on
//! which thread ran it or in which order regions were scheduled.
//!
//! Two engines compute the same steps ([`Engine`]):
//!
//! - [`Engine::Fused`], the default on the CPU: the hand-written forward and backward pass of
//!   [`crate::model::fused`] with its Adam, on flat buffers. Measured (`make bench`): about
//!   5x faster per step than burn's autodiff on `flex` for these shapes, no allocation per
//!   step, and no process-global autodiff lock, so regions fitted in parallel scale.
//! - [`Engine::Burn`]: the burn module with burn autodiff and burn's Adam, on any burn
//!   device. It is the engine of the `tch` build (libtorch, GPUs), and the oracle the fused
//!   engine is tested against (same loss, gradients and updates to 1e-4).
//!
//! Both draw the initial weights and the shuffling from the same RNG stream in the same
//! order, so they fit the same model up to float rounding.
//!
//! On the CPU, one fit runs on one thread, and sstcast parallelises across regions instead
//! (the tiny matmuls of these models gain nothing from intra-op threads, and two thread
//! pools fight): burn's `flex` backend is built without its `rayon` feature.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::dataset::{damping, slice_steps, window_starts};
use crate::model::fused::{Adam, Weights, Workspace};
use crate::model::{ModelShape, Seq2Seq};

/// How a fit computes its training steps (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Hand-written forward/backward on the CPU ([`crate::model::fused`]).
    Fused,
    /// burn autodiff on the selected burn device.
    Burn,
}

impl Engine {
    /// The engine of this build: fused on the CPU build, burn on the `tch` build (whose
    /// point is libtorch and its devices).
    pub fn default_for_build() -> Self {
        if cfg!(feature = "tch") {
            Self::Burn
        } else {
            Self::Fused
        }
    }
}

/// Optimisation settings for one fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSettings {
    /// Input steps.
    pub window: usize,
    /// Output steps.
    pub horizon: usize,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Trailing training steps whose windows are held out for validation (0 = none).
    pub validation: usize,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Relative validation improvement over the untrained (damped-persistence) model that a
    /// trained epoch must reach to be kept; 0 keeps any improvement.
    pub min_improvement: f64,
}

/// A fitted model with its training history.
#[derive(Debug)]
pub struct Fit {
    /// The trained model, on a plain (non-autodiff) device, ready for inference.
    pub model: Seq2Seq,
    /// Mean training loss of each epoch (MSE of standardised anomalies).
    pub losses: Vec<f32>,
    /// Validation loss before training (index 0) and after each epoch; empty without validation.
    pub val_losses: Vec<f32>,
    /// Epoch whose weights were kept (0 = the untrained damped-persistence model).
    pub best_epoch: usize,
    /// `[lead][channel]` damped-persistence coefficients the model corrects.
    pub damping: Vec<f32>,
}

/// Training failed before it started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// Not enough training steps for one window.
    #[error("only {steps} training steps, fewer than window {window} + horizon {horizon}")]
    TooShort {
        /// Training steps available.
        steps: usize,
        /// Input window.
        window: usize,
        /// Horizon.
        horizon: usize,
    },
}

/// The device fits run on: burn's flex CPU backend (see the module docs), or libtorch when
/// sstcast is built with the `tch` feature.
pub fn device() -> Device {
    #[cfg(feature = "tch")]
    {
        crate::device::selected().libtorch()
    }
    #[cfg(not(feature = "tch"))]
    {
        Device::flex()
    }
}

/// Fits a model on `series` (`[t][channel]`, standardised anomalies, training period only)
/// with this build's engine.
pub fn fit(
    series: &[f32],
    shape: ModelShape,
    s: &TrainSettings,
    seed: u64,
) -> Result<Fit, TrainError> {
    fit_with(Engine::default_for_build(), series, shape, s, seed)
}

/// Fits a model with the given engine (see [`fit`]).
pub fn fit_with(
    engine: Engine,
    series: &[f32],
    shape: ModelShape,
    s: &TrainSettings,
    seed: u64,
) -> Result<Fit, TrainError> {
    let c = shape.channels;
    let nt = series.len() / c;
    let starts = window_starts(nt, s.window, s.horizon);
    if starts.is_empty() {
        return Err(TrainError::TooShort {
            steps: nt,
            window: s.window,
            horizon: s.horizon,
        });
    }
    let (train_starts, val_starts) = split(&starts, nt, s);
    let data = Windows {
        series,
        c,
        window: s.window,
        horizon: s.horizon,
        damping: damping(series, c, s.horizon),
    };
    let rng = rand::rngs::SmallRng::seed_from_u64(seed);
    Ok(match engine {
        Engine::Fused => fit_fused(&data, shape, s, rng, train_starts, &val_starts),
        Engine::Burn => fit_burn(&data, shape, s, rng, train_starts, &val_starts),
    })
}

/// The training series and the window geometry of one fit.
struct Windows<'a> {
    series: &'a [f32],
    c: usize,
    window: usize,
    horizon: usize,
    /// `[lead][channel]` damped-persistence coefficients.
    damping: Vec<f32>,
}

impl Windows<'_> {
    /// Flat `x` `[B][window][C]` and `y` `[B][horizon][C]` for the given window starts.
    fn fill(&self, starts: &[usize], x: &mut Vec<f32>, y: &mut Vec<f32>) {
        x.clear();
        y.clear();
        for &st in starts {
            x.extend_from_slice(slice_steps(self.series, self.c, st, self.window));
            y.extend_from_slice(slice_steps(
                self.series,
                self.c,
                st + self.window,
                self.horizon,
            ));
        }
    }
}

/// Early stopping: tracks the validation losses and the best weights so far.
struct Best<M> {
    /// Validation loss before training (index 0) and after each epoch.
    val_losses: Vec<f32>,
    best: Option<(f32, usize, M)>,
}

impl<M: Clone> Best<M> {
    /// Starts from the untrained model's validation loss (`None`: no validation).
    fn new(initial: Option<(f32, &M)>) -> Self {
        match initial {
            Some((v, m)) => Self {
                val_losses: vec![v],
                best: Some((v, 0, m.clone())),
            },
            None => Self {
                val_losses: Vec::new(),
                best: None,
            },
        }
    }

    /// Records epoch `epoch`'s validation loss `v` of `model`; returns whether to stop.
    fn record(&mut self, epoch: usize, v: f32, model: &M, s: &TrainSettings) -> bool {
        let Some((best_v, best_e, _)) = &self.best else {
            return false;
        };
        self.val_losses.push(v);
        let baseline = self.val_losses[0] as f64;
        if v < *best_v && (v as f64) < baseline * (1.0 - s.min_improvement) {
            self.best = Some((v, epoch, model.clone()));
            false
        } else {
            epoch - best_e >= s.patience
        }
    }
}

fn fit_fused(
    data: &Windows<'_>,
    shape: ModelShape,
    s: &TrainSettings,
    mut rng: rand::rngs::SmallRng,
    mut order: Vec<usize>,
    val_starts: &[usize],
) -> Fit {
    let device = Device::flex();
    // The initial weights come from the burn module's initialiser (same RNG draws as the
    // burn engine), then live in flat buffers.
    let mut w = Weights::from_model(&Seq2Seq::new(shape, &mut rng, &device));
    let mut adam = Adam::new(w.data.len(), s.learning_rate, s.l2);
    let mut grad = vec![0.0f32; w.data.len()];
    let mut ws = Workspace::default();
    let (mut vx, mut vy) = (Vec::new(), Vec::new());
    data.fill(val_starts, &mut vx, &mut vy);
    let val_loss = |w: &Weights, ws: &mut Workspace| -> f32 {
        // Scored as the forecast is made: autoregressively, without teacher forcing.
        let pred = w.forecast(&vx, data.window, &data.damping, ws);
        mse(&pred, &vy)
    };
    let initial = (!val_starts.is_empty()).then(|| val_loss(&w, &mut ws));
    let mut best = Best::new(initial.map(|v| (v, &w)));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut losses = Vec::with_capacity(s.epochs);
    for epoch in 1..=s.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(s.batch) {
            data.fill(chunk, &mut x, &mut y);
            let loss = w.loss_and_grad(&x, &y, &data.damping, &mut grad, &mut ws);
            adam.step(&mut w, &mut grad);
            total += loss as f64 * chunk.len() as f64;
        }
        losses.push((total / order.len() as f64) as f32);
        if best.best.is_some() {
            let v = val_loss(&w, &mut ws);
            if best.record(epoch, v, &w, s) {
                break;
            }
        }
    }
    let (best_epoch, w) = match best.best {
        Some((_, e, m)) => (e, m),
        None => (losses.len(), w),
    };
    Fit {
        model: w.to_model(&device),
        losses,
        val_losses: best.val_losses,
        best_epoch,
        damping: data.damping.clone(),
    }
}

fn fit_burn(
    data: &Windows<'_>,
    shape: ModelShape,
    s: &TrainSettings,
    mut rng: rand::rngs::SmallRng,
    mut order: Vec<usize>,
    val_starts: &[usize],
) -> Fit {
    let c = data.c;
    let device = device().autodiff();
    let damp_t = Tensor::<2>::from_data(
        TensorData::new(data.damping.clone(), [s.horizon, c]),
        &device,
    );
    let mut model = Seq2Seq::new(shape, &mut rng, &device);
    let mut optim = optimizer(s.l2);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut tensors = |starts: &[usize]| {
        data.fill(starts, &mut x, &mut y);
        let b = starts.len();
        (
            Tensor::<3>::from_data(TensorData::new(x.clone(), [b, s.window, c]), &device),
            Tensor::<3>::from_data(TensorData::new(y.clone(), [b, s.horizon, c]), &device),
        )
    };
    let val_batch = (!val_starts.is_empty()).then(|| tensors(val_starts));
    let val_loss = |m: &Seq2Seq| -> f32 {
        // Scored as the forecast is made: autoregressively, without teacher forcing.
        let (x, y) = val_batch.clone().expect("validation batch");
        let pred = m.forecast(x, &damp_t);
        scalar((pred - y).square().mean().detach())
    };
    let initial = val_batch.is_some().then(|| val_loss(&model));
    let mut best = Best::new(initial.map(|v| (v, &model)));
    let mut losses = Vec::with_capacity(s.epochs);
    for epoch in 1..=s.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(s.batch) {
            let (x, y) = tensors(chunk);
            let loss;
            (model, loss) = step(model, &mut optim, s.learning_rate, x, y, &damp_t);
            total += loss as f64 * chunk.len() as f64;
        }
        losses.push((total / order.len() as f64) as f32);
        if best.best.is_some() {
            let v = val_loss(&model);
            if best.record(epoch, v, &model, s) {
                break;
            }
        }
    }
    let (best_epoch, model) = match best.best {
        Some((_, e, m)) => (e, m),
        None => (losses.len(), model),
    };
    Fit {
        model: model.valid(),
        losses,
        val_losses: best.val_losses,
        best_epoch,
        damping: data.damping.clone(),
    }
}

/// Mean squared difference, accumulated in f64.
fn mse(a: &[f32], b: &[f32]) -> f32 {
    let sum: f64 = a.iter().zip(b).map(|(p, q)| ((p - q) as f64).powi(2)).sum();
    (sum / a.len() as f64) as f32
}

/// Adam with coupled L2 and gradient-norm clipping at 1 (see the module docs).
pub fn optimizer(l2: f64) -> ModuleOptimizer {
    let mut adam = AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)));
    if l2 > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(l2 as f32)));
    }
    adam.init()
}

/// One optimisation step with teacher forcing on a batch; returns the updated model and the
/// batch's MSE before the update. The whole training loop, and `make bench`, go through here.
pub fn step(
    model: Seq2Seq,
    optim: &mut ModuleOptimizer,
    learning_rate: f64,
    x: Tensor<3>,
    y: Tensor<3>,
    damping: &Tensor<2>,
) -> (Seq2Seq, f32) {
    let pred = model.forward_teacher(x, y.clone(), damping);
    let loss = (pred - y).square().mean();
    let value = scalar(loss.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(learning_rate, model, grads), value)
}

/// Splits window starts into training and validation (time-ordered, see the module docs).
/// Without enough windows on both sides, everything is training.
fn split(starts: &[usize], nt: usize, s: &TrainSettings) -> (Vec<usize>, Vec<usize>) {
    if s.validation == 0 || s.validation >= nt {
        return (starts.to_vec(), Vec::new());
    }
    let cut = nt - s.validation; // first validation step
    let end = |st: usize| st + s.window + s.horizon; // one past the last target step
    let train: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&st| end(st) <= cut)
        .collect();
    let val: Vec<usize> = starts.iter().copied().filter(|&st| end(st) > cut).collect();
    if train.is_empty() || val.is_empty() {
        (starts.to_vec(), Vec::new())
    } else {
        (train, val)
    }
}

/// Autoregressive forecast after the input window `x` (`[window][channel]`), one step per
/// lead of `fit.damping`. Returns `[lead][channel]` standardised anomalies.
pub fn predict(fit: &Fit, x: &[f32], channels: usize) -> Vec<f32> {
    let window = x.len() / channels;
    let horizon = fit.damping.len() / channels;
    match Engine::default_for_build() {
        Engine::Fused => Weights::from_model(&fit.model).forecast(
            x,
            window,
            &fit.damping,
            &mut Workspace::default(),
        ),
        Engine::Burn => {
            let device = device();
            let x =
                Tensor::<3>::from_data(TensorData::new(x.to_vec(), [1, window, channels]), &device);
            let d = Tensor::<2>::from_data(
                TensorData::new(fit.damping.clone(), [horizon, channels]),
                &device,
            );
            fit.model
                .forecast(x, &d)
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32 output")
        }
    }
}

/// A one-element tensor's value.
fn scalar(t: Tensor<1>) -> f32 {
    t.into_data().try_into_vec::<f32>().expect("f32 loss")[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CellKind;

    fn settings() -> TrainSettings {
        TrainSettings {
            window: 12,
            horizon: 6,
            epochs: 60,
            batch: 8,
            learning_rate: 0.01,
            l2: 0.0,
            validation: 0,
            patience: 10,
            min_improvement: 0.0,
        }
    }

    /// A learnable series: two channels of a slow sine, 96 steps.
    fn series() -> Vec<f32> {
        (0..96)
            .flat_map(|t| {
                let a = (t as f32 * 0.35).sin();
                [a, 0.5 * a]
            })
            .collect()
    }

    #[test]
    fn loss_decreases_and_fit_is_deterministic() {
        let shape = ModelShape {
            cell: CellKind::Gru,
            layers: 1,
            hidden: 8,
            channels: 2,
        };
        let s = series();
        let a = fit(&s, shape, &settings(), 5).unwrap();
        assert!(
            a.losses.last().unwrap() < &(a.losses[0] * 0.5),
            "losses {:?}",
            a.losses
        );
        let b = fit(&s, shape, &settings(), 5).unwrap();
        assert_eq!(a.losses, b.losses);
        let x = &s[(96 - 12) * 2..];
        assert_eq!(predict(&a, x, 2), predict(&b, x, 2));
    }

    #[test]
    fn validation_is_time_ordered_and_keeps_the_best_epoch() {
        let s = TrainSettings {
            validation: 12,
            ..settings()
        };
        let (train, val) = split(&window_starts(96, 12, 6), 96, &s);
        // Training targets end by step 84; validation targets end in the last 12 steps.
        assert!(train.iter().all(|&st| st + 18 <= 84));
        assert!(val.iter().all(|&st| st + 18 > 84));
        assert_eq!(train.len() + val.len(), 79);
        let shape = ModelShape {
            cell: CellKind::Gru,
            layers: 1,
            hidden: 8,
            channels: 2,
        };
        let f = fit(&series(), shape, &s, 2).unwrap();
        assert_eq!(f.val_losses.len(), f.losses.len() + 1);
        let best = f.val_losses.iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(f.val_losses[f.best_epoch], best);
    }

    /// The two engines fit the same model: same RNG draws, same steps, so the same
    /// training and validation losses up to float rounding, and the same kept epoch.
    #[test]
    fn fused_and_burn_engines_fit_the_same_model() {
        let s = TrainSettings {
            validation: 12,
            epochs: 8,
            l2: 1e-4,
            ..settings()
        };
        for cell in [CellKind::Gru, CellKind::Lstm] {
            let shape = ModelShape {
                cell,
                layers: 2,
                hidden: 6,
                channels: 2,
            };
            let a = fit_with(Engine::Fused, &series(), shape, &s, 4).unwrap();
            let b = fit_with(Engine::Burn, &series(), shape, &s, 4).unwrap();
            assert_eq!(a.losses.len(), b.losses.len());
            for (p, q) in a
                .losses
                .iter()
                .zip(&b.losses)
                .chain(a.val_losses.iter().zip(&b.val_losses))
            {
                assert!(
                    (p - q).abs() < 1e-3 * (1.0 + q),
                    "{cell:?}: {:?} vs {:?}",
                    a.losses,
                    b.losses
                );
            }
            assert_eq!(a.best_epoch, b.best_epoch);
            assert!(a.losses.last() < a.losses.first(), "{:?}", a.losses);
        }
    }

    #[test]
    fn too_short_is_an_error() {
        let shape = ModelShape {
            cell: CellKind::Lstm,
            layers: 1,
            hidden: 4,
            channels: 2,
        };
        let e = fit(&series()[..20], shape, &settings(), 1).unwrap_err();
        assert_eq!(
            e,
            TrainError::TooShort {
                steps: 10,
                window: 12,
                horizon: 6
            }
        );
    }
}
