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
//! The backend is burn's pure-Rust `flex` CPU backend without its `rayon` feature: one fit
//! runs on one thread, and sstcast parallelises across regions instead (the tiny matmuls of
//! these models gain nothing from intra-op threads, and two thread pools fight).

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::dataset::{damping, slice_steps, window_starts};
use crate::model::{ModelShape, Seq2Seq};

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

/// Fits a model on `series` (`[t][channel]`, standardised anomalies, training period only).
pub fn fit(
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
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let device = device().autodiff();
    let damp = damping(series, c, s.horizon);
    let damp_t = Tensor::<2>::from_data(TensorData::new(damp.clone(), [s.horizon, c]), &device);
    let mut model = Seq2Seq::new(shape, &mut rng, &device);
    let mut optim = optimizer(s.l2);
    let val_batch = (!val_starts.is_empty())
        .then(|| batch(series, c, &val_starts, s.window, s.horizon, &device));
    let val_loss = |m: &Seq2Seq| -> f32 {
        // Scored as the forecast is made: autoregressively, without teacher forcing.
        let (x, y) = val_batch.clone().expect("validation batch");
        let pred = m.forecast(x, &damp_t);
        scalar((pred - y).square().mean().detach())
    };
    let mut val_losses = Vec::new();
    let mut best: Option<(f32, usize, Seq2Seq)> = None;
    if val_batch.is_some() {
        let v = val_loss(&model);
        val_losses.push(v);
        best = Some((v, 0, model.clone()));
    }
    let mut order = train_starts;
    let mut losses = Vec::with_capacity(s.epochs);
    for epoch in 1..=s.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(s.batch) {
            let (x, y) = batch(series, c, chunk, s.window, s.horizon, &device);
            let loss;
            (model, loss) = step(model, &mut optim, s.learning_rate, x, y, &damp_t);
            total += loss as f64 * chunk.len() as f64;
        }
        losses.push((total / order.len() as f64) as f32);
        if let Some((best_v, best_e, _)) = &best {
            let v = val_loss(&model);
            val_losses.push(v);
            let baseline = val_losses[0] as f64;
            if v < *best_v && (v as f64) < baseline * (1.0 - s.min_improvement) {
                best = Some((v, epoch, model.clone()));
            } else if epoch - best_e >= s.patience {
                break;
            }
        }
    }
    let (best_epoch, model) = match best {
        Some((_, e, m)) => (e, m),
        None => (losses.len(), model),
    };
    Ok(Fit {
        model: model.valid(),
        losses,
        val_losses,
        best_epoch,
        damping: damp,
    })
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

/// Builds `x` `[B, window, C]` and `y` `[B, horizon, C]` tensors for the given window starts.
fn batch(
    series: &[f32],
    c: usize,
    starts: &[usize],
    window: usize,
    horizon: usize,
    device: &Device,
) -> (Tensor<3>, Tensor<3>) {
    let b = starts.len();
    let mut xs = Vec::with_capacity(b * window * c);
    let mut ys = Vec::with_capacity(b * horizon * c);
    for &st in starts {
        xs.extend_from_slice(slice_steps(series, c, st, window));
        ys.extend_from_slice(slice_steps(series, c, st + window, horizon));
    }
    (
        Tensor::from_data(TensorData::new(xs, [b, window, c]), device),
        Tensor::from_data(TensorData::new(ys, [b, horizon, c]), device),
    )
}

/// Autoregressive forecast after the input window `x` (`[window][channel]`), one step per
/// lead of `fit.damping`. Returns `[lead][channel]` standardised anomalies.
pub fn predict(fit: &Fit, x: &[f32], channels: usize) -> Vec<f32> {
    let window = x.len() / channels;
    let horizon = fit.damping.len() / channels;
    let device = device();
    let x = Tensor::<3>::from_data(TensorData::new(x.to_vec(), [1, window, channels]), &device);
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
