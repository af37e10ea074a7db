//! The fused engine: training on the flat weights of [`crate::model::fused`].
//!
//! The model's hand-written forward and backward pass gives the loss and the gradient;
//! this module adds what turns that into training: burn's Adam update computed in place on
//! the flat weights ([`Adam`], tested against [`super::optimizer`] to 1e-4), the step that
//! combines the two ([`Trainer`], also what `make bench` times), and the [`Stepper`] that
//! runs it through the epoch loop of [`super`].

use burn::tensor::Device;

use super::{epochs, Batch, DecoderTraining, Fit, Stepper, TrainSettings, Windows};
use crate::model::fused::{TrainBatch, Weights, Workspace};
use crate::model::{ModelShape, Seq2Seq};

/// The fused engine's state (see [`crate::model::fused`]): its trainer and batch buffers.
struct Fused<'a> {
    data: &'a Windows<'a>,
    t: Trainer,
    batch: Batch,
    val: Batch,
    free_running: bool,
}

impl Stepper for Fused<'_> {
    type Weights = Weights;

    fn step(&mut self, starts: &[usize]) -> f32 {
        self.data.fill(starts, &mut self.batch);
        let b = &self.batch;
        // Free running: the decoder is fed the model's own forecast, as at inference.
        let own = self.free_running.then(|| {
            let t = &mut self.t;
            t.weights
                .forecast(&b.x, self.data.window, &b.base, &mut t.workspace)
        });
        self.t.step(&TrainBatch {
            x: &b.x,
            y: &b.y,
            base: &b.base,
            fed: own.as_deref(),
            horizon: self.data.horizon,
        })
    }

    fn val_loss(&mut self) -> f32 {
        let t = &mut self.t;
        let v = &self.val;
        let pred = t
            .weights
            .forecast(&v.x, self.data.window, &v.base, &mut t.workspace);
        mse(&pred, &v.y)
    }

    fn weights(&self) -> Weights {
        self.t.weights.clone()
    }
}

/// Fits with the fused engine. It runs on the CPU whatever `s.device` says: the initial
/// weights and the returned model are on burn's flex device.
pub(super) fn fit_fused(
    data: &Windows<'_>,
    shape: ModelShape,
    s: &TrainSettings,
    mut rng: rand::rngs::SmallRng,
    order: Vec<usize>,
    val_starts: &[usize],
) -> Fit {
    let device = Device::flex();
    // The initial weights come from the burn module's initialiser (same RNG draws as the
    // burn engine), then live in flat buffers.
    let w = Weights::from_model(&Seq2Seq::new(shape, &mut rng, &device));
    let mut val = Batch::default();
    data.fill(val_starts, &mut val);
    let mut st = Fused {
        data,
        t: Trainer::new(w, s.learning_rate, s.l2),
        batch: Batch::default(),
        val,
        free_running: s.decoder == DecoderTraining::FreeRunning,
    };
    let run = epochs(&mut st, s, &mut rng, order, !val_starts.is_empty());
    run.into_fit(st.t.weights, data.baseline.clone(), |w| w.to_model(&device))
}

/// Mean squared difference, accumulated in f64.
fn mse(a: &[f32], b: &[f32]) -> f32 {
    let sum: f64 = a.iter().zip(b).map(|(p, q)| ((p - q) as f64).powi(2)).sum();
    (sum / a.len() as f64) as f32
}

/// The autoregressive forecast of `fit` after the input window `x`, correcting `base`
/// (see [`super::predict`]).
pub(super) fn predict(fit: &Fit, x: &[f32], base: &[f32], channels: usize) -> Vec<f32> {
    let window = x.len() / channels;
    Weights::from_model(&fit.model).forecast(x, window, base, &mut Workspace::default())
}

/// Adam with coupled L2 and per-tensor gradient-norm clipping at 1: the update of
/// [`super::optimizer`] (burn's `Adam`, default betas 0.9/0.999, epsilon 1e-5), computed in
/// place on the flat weights.
#[derive(Debug, Clone)]
struct Adam {
    learning_rate: f32,
    l2: f32,
    time: i32,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    const BETA_1: f32 = 0.9;
    const BETA_2: f32 = 0.999;
    const EPSILON: f32 = 1e-5;
    const CLIP_NORM: f32 = 1.0;

    /// A fresh optimizer for `n` weights.
    fn new(n: usize, learning_rate: f64, l2: f64) -> Self {
        Self {
            learning_rate: learning_rate as f32,
            l2: l2 as f32,
            time: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One update of `w` from the gradient `grad` (which it overwrites).
    fn step(&mut self, w: &mut Weights, grad: &mut [f32]) {
        self.time += 1;
        let bc2 = (1.0 - Self::BETA_2.powi(self.time)).sqrt();
        let factor = bc2 / (1.0 - Self::BETA_1.powi(self.time));
        let eps = Self::EPSILON * bc2;
        for &(at, n) in w.layout.tensors() {
            let g = &mut grad[at..at + n];
            let norm = g.iter().map(|v| v * v).sum::<f32>().sqrt();
            let clip = (Self::CLIP_NORM / (norm + f32::MIN_POSITIVE)).min(1.0);
            let ws = &mut w.data[at..at + n];
            let (m, v) = (&mut self.m[at..at + n], &mut self.v[at..at + n]);
            for i in 0..n {
                let gi = g[i] * clip + self.l2 * ws[i];
                m[i] = Self::BETA_1 * m[i] + (1.0 - Self::BETA_1) * gi;
                v[i] = Self::BETA_2 * v[i] + (1.0 - Self::BETA_2) * gi * gi;
                ws[i] -= self.learning_rate * (m[i] * factor / (v[i].sqrt() + eps));
            }
        }
    }
}

/// One fused training step's state: the weights, Adam's moments and the reusable buffers.
/// [`Trainer::step`] is the step `train::fit` takes on the CPU and `make bench` times.
#[derive(Debug)]
pub(crate) struct Trainer {
    /// The current weights.
    pub(crate) weights: Weights,
    /// Buffers for the forward and backward passes (also usable for forecasts).
    pub(crate) workspace: Workspace,
    adam: Adam,
    grad: Vec<f32>,
}

impl Trainer {
    /// Starts from `weights` with a fresh Adam.
    pub(crate) fn new(weights: Weights, learning_rate: f64, l2: f64) -> Self {
        let n = weights.data.len();
        Self {
            weights,
            workspace: Workspace::default(),
            adam: Adam::new(n, learning_rate, l2),
            grad: vec![0.0; n],
        }
    }

    /// One step on `batch`: loss and gradient, then the Adam update. Returns the loss
    /// before the update.
    pub(crate) fn step(&mut self, batch: &TrainBatch<'_>) -> f32 {
        let loss = self
            .weights
            .loss_and_grad(batch, &mut self.grad, &mut self.workspace);
        self.adam.step(&mut self.weights, &mut self.grad);
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fused::tests::{assert_close, case, tensor3};
    use crate::model::CellKind;

    /// The fused Adam against burn's optimizer: the same weights after three steps, with
    /// coupled L2 and with gradient-norm clipping acting.
    #[test]
    fn adam_matches_burns_optimizer() {
        let device = Device::flex().autodiff();
        let c = case(CellKind::Gru, 2, 11, &device);
        let (lr, l2) = (0.01, 1e-3);
        let mut optim = super::super::optimizer(l2);
        let mut model = c.model.clone();
        let mut w = Weights::from_model(&c.model);
        let mut adam = Adam::new(w.data.len(), lr, l2);
        let mut grad = vec![0.0; w.data.len()];
        let mut ws = Workspace::default();
        let x = tensor3(&c.x, [c.b, c.t, c.c], &device);
        let base = tensor3(&c.base, [c.b, c.h, c.c], &device);
        for _ in 0..3 {
            // Scale the targets up so some gradient norms exceed 1 and clipping acts.
            let y: Vec<f32> = c.y.iter().map(|v| v * 20.0).collect();
            let yt = tensor3(&y, [c.b, c.h, c.c], &device);
            (model, _) =
                super::super::step(model, &mut optim, lr, [x.clone(), yt, base.clone()], None);
            w.loss_and_grad(&c.batch(&y), &mut grad, &mut ws);
            assert!(
                grad.iter().map(|g| g * g).sum::<f32>() > 1.0,
                "clipping is exercised"
            );
            adam.step(&mut w, &mut grad);
        }
        assert_close(
            &w.data,
            &Weights::from_model(&model).data,
            1e-4,
            "weights after 3 steps",
        );
    }
}
