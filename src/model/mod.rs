//! The forecaster: a sequence-to-sequence recurrent encoder-decoder in burn.
//!
//! This is the model of the original project (`basic_rnn_seq2seq`, a stacked GRU encoder
//! whose final state starts a stacked GRU decoder), written out by hand:
//!
//! - **Encoder**: `layers` stacked cells read the input window, one vector of the region's
//!   ocean cells per time step (the cells are the channels).
//! - **Decoder**: its own stacked cells start from the encoder's final states; at each step
//!   its input is the previous value of the series and a linear projection of its top hidden
//!   state, added to a baseline forecast the caller computes from the input window alone
//!   (damped persistence, [`crate::train::Baseline`]), is the next value. In training the
//!   previous value fed is the truth (teacher forcing) or the model's own earlier forecast
//!   ([`Seq2Seq::forward_teacher`] takes either); at inference it is the model's own previous
//!   output ([`Seq2Seq::forecast`]): no future value is ever an input.
//! - **Cells**: GRU (default, PyTorch's `reset_after` formulation) or LSTM. Each layer
//!   projects its whole input sequence with one matmul and computes all gates with one
//!   matmul per step; burn-nn's built-in `Gru` does six matmuls and a `slice_assign` per step
//!   and measured 2-3x slower for these tiny shapes (`../shared/docs/burn-notes.md`).
//!
//! Weights are initialised from a caller-supplied RNG (uniform +-1/sqrt(hidden), PyTorch's
//! RNN default), not from burn's process-global RNG, so that regions fitted in parallel get
//! the same weights whatever the thread schedule.

pub mod fused;

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

/// Recurrent cell type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Gated recurrent unit (3 gates).
    Gru,
    /// Long short-term memory (4 gates).
    Lstm,
}

impl CellKind {
    fn gates(self) -> usize {
        match self {
            Self::Gru => 3,
            Self::Lstm => 4,
        }
    }
}

/// Shape of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelShape {
    /// Cell type.
    pub cell: CellKind,
    /// Stacked layers in encoder and decoder.
    pub layers: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Channels (ocean cells of the region).
    pub channels: usize,
}

/// One recurrent layer: `gates` x `hidden` units, fused weights.
#[derive(Module, Debug)]
pub struct RecurrentLayer {
    /// Input weights `[input, gates * hidden]`.
    wx: Param<Tensor<2>>,
    /// Recurrent weights `[hidden, gates * hidden]`.
    wh: Param<Tensor<2>>,
    /// Input bias `[gates * hidden]`.
    bx: Param<Tensor<1>>,
    /// Recurrent bias `[gates * hidden]` (separate, as GRU's reset gate multiplies it).
    bh: Param<Tensor<1>>,
    hidden: usize,
    gates: usize,
}

/// Recurrent state of one layer: `h`, plus `c` for LSTM.
#[derive(Debug, Clone)]
pub struct LayerState {
    h: Tensor<2>,
    c: Option<Tensor<2>>,
}

fn uniform(rng: &mut impl Rng, shape: [usize; 2], bound: f32, device: &Device) -> Param<Tensor<2>> {
    let v: Vec<f32> = (0..shape[0] * shape[1])
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    Param::from_data(TensorData::new(v, shape), device)
}

fn uniform1(rng: &mut impl Rng, n: usize, bound: f32, device: &Device) -> Param<Tensor<1>> {
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound)).collect();
    Param::from_data(TensorData::new(v, [n]), device)
}

impl RecurrentLayer {
    fn new(
        cell: CellKind,
        input: usize,
        hidden: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        let g = cell.gates();
        let bound = 1.0 / (hidden as f32).sqrt();
        Self {
            wx: uniform(rng, [input, g * hidden], bound, device),
            wh: uniform(rng, [hidden, g * hidden], bound, device),
            bx: uniform1(rng, g * hidden, bound, device),
            bh: uniform1(rng, g * hidden, bound, device),
            hidden,
            gates: g,
        }
    }

    fn zero_state(&self, batch: usize, device: &Device) -> LayerState {
        LayerState {
            h: Tensor::zeros([batch, self.hidden], device),
            c: (self.gates == 4).then(|| Tensor::zeros([batch, self.hidden], device)),
        }
    }

    /// Input projection of a whole sequence `[B, T, I]` -> `[B, T, G*H]` (one matmul).
    fn project(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, i] = x.dims();
        let gh = self.gates * self.hidden;
        (x.reshape([b * t, i]).matmul(self.wx.val()) + self.bx.val().unsqueeze::<2>())
            .reshape([b, t, gh])
    }

    /// One step from a projected input `[B, G*H]`.
    fn step(&self, gx: Tensor<2>, s: LayerState) -> LayerState {
        let h_len = self.hidden;
        let gh = s.h.clone().matmul(self.wh.val()) + self.bh.val().unsqueeze::<2>();
        if self.gates == 3 {
            let xs = gx.chunk(3, 1);
            let hs = gh.chunk(3, 1);
            let r = sigmoid(xs[0].clone() + hs[0].clone());
            let z = sigmoid(xs[1].clone() + hs[1].clone());
            let n = tanh(xs[2].clone() + r * hs[2].clone());
            // h' = (1 - z) * n + z * h = n + z * (h - n)
            let h = n.clone() + z * (s.h - n);
            LayerState { h, c: None }
        } else {
            let a = (gx + gh).chunk(4, 1);
            let i = sigmoid(a[0].clone());
            let f = sigmoid(a[1].clone());
            let g = tanh(a[2].clone());
            let o = sigmoid(a[3].clone());
            let c = f * s.c.expect("LSTM state has c") + i * g;
            let h = o * tanh(c.clone());
            debug_assert_eq!(h.dims()[1], h_len);
            LayerState { h, c: Some(c) }
        }
    }

    /// Runs a whole sequence `[B, T, I]`; returns the outputs `[B, T, H]` and the final state.
    fn sequence(&self, x: Tensor<3>, mut s: LayerState) -> (Tensor<3>, LayerState) {
        let [b, t, _] = x.dims();
        let gh = self.gates * self.hidden;
        let gx = self.project(x);
        let mut outs = Vec::with_capacity(t);
        for k in 0..t {
            let g = gx.clone().slice([0..b, k..k + 1, 0..gh]).reshape([b, gh]);
            s = self.step(g, s);
            outs.push(s.h.clone());
        }
        (Tensor::stack(outs, 1), s)
    }
}

/// The encoder-decoder.
#[derive(Module, Debug)]
pub struct Seq2Seq {
    encoder: Vec<RecurrentLayer>,
    decoder: Vec<RecurrentLayer>,
    /// Output projection `[hidden, channels]`.
    wo: Param<Tensor<2>>,
    bo: Param<Tensor<1>>,
}

impl Seq2Seq {
    /// A freshly initialised model; all randomness comes from `rng`.
    pub fn new(shape: ModelShape, rng: &mut impl Rng, device: &Device) -> Self {
        let mk = |rng: &mut _| {
            (0..shape.layers)
                .map(|l| {
                    let input = if l == 0 { shape.channels } else { shape.hidden };
                    RecurrentLayer::new(shape.cell, input, shape.hidden, rng, device)
                })
                .collect::<Vec<_>>()
        };
        let encoder = mk(rng);
        let decoder = mk(rng);
        // The output projection starts at zero, so an untrained model forecasts exactly the
        // baseline it is given (see `forward_teacher`): training can only
        // move it away where that lowers the loss, and early stopping can keep it there.
        let zeros = |n: usize| vec![0.0f32; n];
        Self {
            encoder,
            decoder,
            wo: Param::from_data(
                TensorData::new(
                    zeros(shape.hidden * shape.channels),
                    [shape.hidden, shape.channels],
                ),
                device,
            ),
            bo: Param::from_data(
                TensorData::new(zeros(shape.channels), [shape.channels]),
                device,
            ),
        }
    }

    /// Encodes `x` `[B, T, C]` into the final state of every layer.
    fn encode(&self, x: Tensor<3>) -> Vec<LayerState> {
        let [b, _, _] = x.dims();
        let device = x.device();
        let mut input = x;
        let mut states = Vec::with_capacity(self.encoder.len());
        for layer in &self.encoder {
            let (out, s) = layer.sequence(input, layer.zero_state(b, &device));
            states.push(s);
            input = out;
        }
        states
    }

    fn project_out(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.wo.val()) + self.bo.val().unsqueeze::<2>()
    }

    /// Training forward pass with teacher forcing.
    ///
    /// `x`: input window `[B, T, C]`; `y`: the following `horizon` true values `[B, H, C]`;
    /// `base`: `[B, H, C]` the baseline forecast from `x` (damped persistence of `x[T-1]`,
    /// computed by the caller from `x` alone). Returns the predictions `[B, H, C]` = base +
    /// the network's correction; decoder step `k` sees `y[k-1]` (`x[T-1]` for k = 0).
    pub fn forward_teacher(&self, x: Tensor<3>, y: Tensor<3>, base: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        let horizon = y.dims()[1];
        let last = x.clone().slice([0..b, t - 1..t, 0..c]);
        let dec_in = if horizon > 1 {
            Tensor::cat(vec![last, y.slice([0..b, 0..horizon - 1, 0..c])], 1)
        } else {
            last
        };
        let states = self.encode(x);
        let mut input = dec_in;
        for (layer, s) in self.decoder.iter().zip(states) {
            let (out, _) = layer.sequence(input, s);
            input = out;
        }
        let hidden = input.dims()[2];
        base + self
            .project_out(input.reshape([b * horizon, hidden]))
            .reshape([b, horizon, c])
    }

    /// Autoregressive forecast of `horizon` steps after `x` `[B, T, C]`: each decoder step is
    /// fed the model's own previous output; `base` `[B, horizon, C]` is the baseline forecast
    /// the network corrects (see [`Self::forward_teacher`]). Returns `[B, horizon, C]`.
    pub fn forecast(&self, x: Tensor<3>, base: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        let horizon = base.dims()[1];
        let mut prev = x.clone().slice([0..b, t - 1..t, 0..c]).reshape([b, c]);
        let mut states = self.encode(x);
        let mut outs = Vec::with_capacity(horizon);
        for k in 0..horizon {
            let mut input = prev;
            for (layer, s) in self.decoder.iter().zip(states.iter_mut()) {
                let gx = input.matmul(layer.wx.val()) + layer.bx.val().unsqueeze::<2>();
                *s = layer.step(gx, s.clone());
                input = s.h.clone();
            }
            let base_k = base.clone().slice([0..b, k..k + 1, 0..c]).reshape([b, c]);
            prev = base_k + self.project_out(input);
            outs.push(prev.clone());
        }
        Tensor::stack(outs, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn model(cell: CellKind, seed: u64) -> (Seq2Seq, Device) {
        let device = Device::flex();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let shape = ModelShape {
            cell,
            layers: 2,
            hidden: 5,
            channels: 3,
        };
        let m = Seq2Seq::new(shape, &mut rng, &device);
        (perturb(m, &device), device)
    }

    fn damping(device: &Device, h: usize) -> Tensor<2> {
        let v: Vec<f32> = (0..h * 3).map(|i| 0.9 - 0.05 * i as f32).collect();
        Tensor::from_data(TensorData::new(v, [h, 3]), device)
    }

    /// Damped persistence of `x`'s last step with coefficients `d` `[H, C]`: `[B, H, C]`.
    fn base(x: &Tensor<3>, d: &Tensor<2>) -> Tensor<3> {
        let [b, t, c] = x.dims();
        x.clone().slice([0..b, t - 1..t, 0..c]) * d.clone().unsqueeze::<3>()
    }

    /// Gives the output projection non-zero weights, as after training.
    fn perturb(m: Seq2Seq, dev: &Device) -> Seq2Seq {
        let v: Vec<f32> = (0..15).map(|i| ((i * 7) % 5) as f32 * 0.1 - 0.2).collect();
        Seq2Seq {
            wo: Param::from_data(TensorData::new(v, [5, 3]), dev),
            ..m
        }
    }

    fn seq(device: &Device, b: usize, t: usize, c: usize, k: f32) -> Tensor<3> {
        let v: Vec<f32> = (0..b * t * c).map(|i| ((i as f32) * k).sin()).collect();
        Tensor::from_data(TensorData::new(v, [b, t, c]), device)
    }

    #[test]
    fn shapes_and_same_seed_same_weights() {
        for cell in [CellKind::Gru, CellKind::Lstm] {
            let (m1, dev) = model(cell, 7);
            let (m2, _) = model(cell, 7);
            let x = seq(&dev, 2, 6, 3, 0.3);
            let d = damping(&dev, 4);
            let a = m1.forecast(x.clone(), base(&x, &d));
            assert_eq!(a.dims(), [2, 4, 3]);
            let b = m2.forecast(x.clone(), base(&x, &d));
            assert_eq!(
                a.into_data().try_into_vec::<f32>().unwrap(),
                b.into_data().try_into_vec::<f32>().unwrap()
            );
        }
    }

    /// Autoregressive decoding equals teacher forcing fed with the model's own outputs:
    /// the two paths compute the same function, and the forecast never sees the truth.
    #[test]
    fn forecast_equals_teacher_forcing_on_own_outputs() {
        for cell in [CellKind::Gru, CellKind::Lstm] {
            let (m, dev) = model(cell, 3);
            let x = seq(&dev, 1, 5, 3, 0.7);
            let d = damping(&dev, 3);
            let f = m.forecast(x.clone(), base(&x, &d));
            let tf = m.forward_teacher(x.clone(), f.clone(), base(&x, &d));
            let a = f.into_data().try_into_vec::<f32>().unwrap();
            let b = tf.into_data().try_into_vec::<f32>().unwrap();
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 1e-5, "{p} vs {q}");
            }
        }
    }

    /// An untrained model forecasts exactly the damped-persistence baseline.
    #[test]
    fn untrained_model_is_damped_persistence() {
        let device = Device::flex();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let shape = ModelShape {
            cell: CellKind::Gru,
            layers: 1,
            hidden: 4,
            channels: 3,
        };
        let m = Seq2Seq::new(shape, &mut rng, &device);
        let x = seq(&device, 1, 5, 3, 0.4);
        let last: Vec<f32> = x
            .clone()
            .slice([0..1, 4..5, 0..3])
            .into_data()
            .try_into_vec()
            .unwrap();
        let d = damping(&device, 2);
        let dv: Vec<f32> = d.clone().into_data().try_into_vec().unwrap();
        let f: Vec<f32> = m
            .forecast(x.clone(), base(&x, &d))
            .into_data()
            .try_into_vec()
            .unwrap();
        for k in 0..2 {
            for c in 0..3 {
                assert!((f[k * 3 + c] - dv[k * 3 + c] * last[c]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn teacher_forcing_output_depends_only_on_earlier_targets() {
        let (m, dev) = model(CellKind::Gru, 1);
        let x = seq(&dev, 1, 4, 3, 0.2);
        let y = seq(&dev, 1, 3, 3, 0.9);
        let mut y2 = y.clone().into_data().try_into_vec::<f32>().unwrap();
        for v in &mut y2[6..] {
            *v = 100.0; // change the last target step only
        }
        let y2 = Tensor::from_data(TensorData::new(y2, [1, 3, 3]), &dev);
        let d = damping(&dev, 3);
        let a = m
            .forward_teacher(x.clone(), y, base(&x, &d))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b = m
            .forward_teacher(x.clone(), y2, base(&x, &d))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(a, b, "the last target must never be an input");
    }
}
