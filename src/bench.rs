//! One training step, isolated for timing (`sstcast-bench`, `make bench`).
//!
//! Why this module exists: the cost of a fit is (number of steps) x (cost of one step), and the
//! per-step cost is what the backend and cell choices change (issue 4). [`crate::train::fit`]
//! interleaves that step with batching, shuffling and validation, so it cannot be timed on
//! its own. [`TrainStep`] holds a model, an optimizer and one fixed batch and runs exactly
//! the step of `fit`: teacher-forced forward, MSE, backward, Adam with coupled L2 and
//! gradient-norm clipping at 1, on the CPU (the burn engine on the autodiff form of
//! [`DeviceChoice::Cpu`]'s device, as a `--device cpu` run).
//!
//! The step itself is the one `fit` takes with the chosen [`Engine`]: for
//! [`Engine::Fused`] (the CPU default) `train::fused::Trainer::step`, for
//! [`Engine::Burn`] [`crate::train::step`] with [`crate::train::optimizer`]. The bench times
//! both, so the gain of the fused engine stays measured.

use burn::optim::ModuleOptimizer;
use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};

use crate::model::fused::{TrainBatch, Weights};
use crate::model::{ModelShape, Seq2Seq};
use crate::train::fused::Trainer;
use crate::train::{optimizer, step, DeviceChoice, Engine};

/// Sizes of one benchmarked step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepShape {
    /// Model (cell, layers, hidden, channels).
    pub model: ModelShape,
    /// Input steps.
    pub window: usize,
    /// Output steps.
    pub horizon: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Coupled L2 penalty (0 = none).
    pub l2: f64,
}

/// A model, its optimizer and one fixed batch: [`TrainStep::step`] is one training step.
pub struct TrainStep {
    inner: Inner,
}

enum Inner {
    Fused {
        trainer: Trainer,
        x: Vec<f32>,
        y: Vec<f32>,
        base: Vec<f32>,
        horizon: usize,
    },
    Burn {
        model: Option<Seq2Seq>,
        optim: ModuleOptimizer,
        x: Tensor<3>,
        y: Tensor<3>,
        base: Tensor<3>,
        learning_rate: f64,
    },
}

impl TrainStep {
    /// A freshly initialised model and a random batch (a smooth signal plus noise, so the
    /// loss can fall), all from `seed`.
    pub fn new(s: StepShape, seed: u64, engine: Engine) -> Self {
        let device = match engine {
            Engine::Burn => DeviceChoice::Cpu.device().autodiff(),
            Engine::Fused => burn::tensor::Device::flex(),
        };
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let model = Seq2Seq::new(s.model, &mut rng, &device);
        let c = s.model.channels;
        let t = s.window + s.horizon;
        let mut series = |b: usize| -> Vec<f32> {
            let phase = rng.random_range(0.0f32..std::f32::consts::TAU);
            (0..t * c)
                .map(|k| {
                    let (step, ch) = (k / c, k % c);
                    (0.5 * step as f32 + phase + 0.1 * ch as f32 + b as f32).sin()
                        + rng.random_range(-0.1f32..0.1)
                })
                .collect()
        };
        let mut xs = Vec::with_capacity(s.batch * s.window * c);
        let mut ys = Vec::with_capacity(s.batch * s.horizon * c);
        for b in 0..s.batch {
            let v = series(b);
            xs.extend_from_slice(&v[..s.window * c]);
            ys.extend_from_slice(&v[s.window * c..]);
        }
        // Damped persistence of each window's last step, as the fits' baseline.
        let mut base = Vec::with_capacity(ys.len());
        for b in 0..s.batch {
            let last = &xs[(b * s.window + s.window - 1) * c..(b * s.window + s.window) * c];
            for lead in 0..s.horizon {
                base.extend(last.iter().map(|v| v * 0.9f32.powi(lead as i32 + 1)));
            }
        }
        let inner = match engine {
            Engine::Fused => Inner::Fused {
                trainer: Trainer::new(Weights::from_model(&model), s.learning_rate, s.l2),
                x: xs,
                y: ys,
                base,
                horizon: s.horizon,
            },
            Engine::Burn => Inner::Burn {
                model: Some(model),
                optim: optimizer(s.l2),
                x: Tensor::from_data(TensorData::new(xs, [s.batch, s.window, c]), &device),
                y: Tensor::from_data(TensorData::new(ys, [s.batch, s.horizon, c]), &device),
                base: Tensor::from_data(TensorData::new(base, [s.batch, s.horizon, c]), &device),
                learning_rate: s.learning_rate,
            },
        };
        Self { inner }
    }

    /// One step, as in `train::fit`; returns the batch loss before the update.
    pub fn step(&mut self) -> f32 {
        match &mut self.inner {
            Inner::Fused {
                trainer,
                x,
                y,
                base,
                horizon,
            } => trainer.step(&TrainBatch {
                x,
                y,
                base,
                fed: None,
                horizon: *horizon,
            }),
            Inner::Burn {
                model,
                optim,
                x,
                y,
                base,
                learning_rate,
            } => {
                let m = model.take().expect("model present between steps");
                let batch = [x.clone(), y.clone(), base.clone()];
                let (m, loss) = step(m, optim, *learning_rate, batch, None);
                *model = Some(m);
                loss
            }
        }
    }
}

/// Median and spread of a sample of durations (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Summary {
    /// Summarises `samples` (any order; must not be empty).
    pub fn of(samples: &[f64]) -> Self {
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            // Linear interpolation between closest ranks (numpy's default).
            let x = p * (v.len() - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
        };
        Self {
            n: v.len(),
            median: q(0.5),
            p10: q(0.1),
            p90: q(0.9),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CellKind;

    #[test]
    fn step_loss_is_finite_and_falls() {
        for (cell, engine) in [
            (CellKind::Gru, Engine::Fused),
            (CellKind::Lstm, Engine::Fused),
            (CellKind::Gru, Engine::Burn),
        ] {
            let mut s = TrainStep::new(
                StepShape {
                    model: ModelShape {
                        cell,
                        layers: 2,
                        hidden: 6,
                        channels: 3,
                    },
                    window: 8,
                    horizon: 4,
                    batch: 4,
                    learning_rate: 0.01,
                    l2: 1e-5,
                },
                1,
                engine,
            );
            let losses: Vec<f32> = (0..30).map(|_| s.step()).collect();
            assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
            assert!(losses[29] < losses[0], "{cell:?}: {losses:?}");
        }
    }

    #[test]
    fn summary_quantiles() {
        let s = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.n, s.median), (5, 3.0));
        assert!((s.p10 - 1.4).abs() < 1e-12 && (s.p90 - 4.6).abs() < 1e-12);
    }
}
