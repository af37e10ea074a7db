//! The CPU fast path: the whole seq2seq model's forward and backward pass written by hand.
//!
//! Why this exists (issue 4, measured in `bench/results.md`): on the CPU, the cost of one
//! training step of these tiny models is per-operation overhead, not arithmetic. A step of
//! the original project's model is about 15 MFLOP, which one core does in well under a
//! millisecond, but burn's autodiff records some 40 tensor operations per time step per
//! layer (slices, chunks, sigmoids, ...), each allocating and registering a graph node
//! behind a process-global mutex: 12-18 ms per step on `flex`, and two regions fitted in
//! parallel contend for that mutex. This module computes exactly the same function as
//! [`Seq2Seq::forward_teacher`] with the mean-squared-error loss, its gradient with respect
//! to every weight (backpropagation through time, derived by hand in `cell`), the
//! autoregressive [`Seq2Seq::forecast`], on plain `f32` slices:
//!
//! - one matmul projects a layer's whole input sequence, one matmul per time step computes
//!   all gates (the fused cell of [`super`]); the backward pass collects the gate gradients
//!   of all steps and turns them into weight gradients with one matmul each;
//! - activations are stored time-major (`[t][batch][unit]`), so a time step is one
//!   contiguous block and the inner loops run over contiguous memory (auto-vectorised);
//! - all buffers live in a `Workspace` (in `net`) reused from step to step: no allocation
//!   per step;
//! - no locks and no shared state: fits on different threads do not touch each other.
//!
//! The generic burn path ([`Seq2Seq`] on any burn device) stays: it is what runs on libtorch
//! (`--features tch`, GPUs), and it is the oracle this module is tested against (loss,
//! every gradient and the forecast agree to 1e-4 on random inputs).
//! Weights move between the two with [`Weights::from_model`] and [`Weights::to_model`].
//!
//! This module is the model only: weights, forward and backward. The optimizer that updates
//! the flat weights (Adam) and the training step live with the rest of training, in
//! the `train` module (its fused engine).
//!
//! Files: this one holds the flat [`Layout`] and [`Weights`] and their conversion from and
//! to the burn module; `kernels` the small dense loops (matmul, transpose, ...); `cell` one
//! recurrent layer's forward and backward pass over a sequence, with the derivation; `net`
//! the whole encoder-decoder: the loss and its gradient, and the autoregressive forecast.

mod cell;
mod kernels;
mod net;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use net::{TrainBatch, Workspace};

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use super::{CellKind, ModelShape, RecurrentLayer, Seq2Seq};

/// Where one recurrent layer's tensors sit in the flat parameter vector.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LayerAt {
    /// Input width of the layer.
    input: usize,
    /// `[input, G*H]`.
    wx: usize,
    /// `[H, G*H]`.
    wh: usize,
    /// `[G*H]`.
    bx: usize,
    /// `[G*H]`.
    bh: usize,
}

/// The layout of all weights in one flat vector, in the order of the burn module's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    shape: ModelShape,
    enc: Vec<LayerAt>,
    dec: Vec<LayerAt>,
    wo: usize,
    bo: usize,
    /// `(start, len)` of every tensor, in order (Adam clips each tensor's gradient alone).
    tensors: Vec<(usize, usize)>,
    len: usize,
}

impl Layout {
    /// The layout of a model of `shape`.
    pub fn new(shape: ModelShape) -> Self {
        let (h, c) = (shape.hidden, shape.channels);
        let gh = shape.cell.gates() * h;
        let mut tensors = Vec::new();
        let mut at = 0usize;
        let mut take = |n: usize| {
            tensors.push((at, n));
            at += n;
            at - n
        };
        let stack = |take: &mut dyn FnMut(usize) -> usize| {
            (0..shape.layers)
                .map(|l| {
                    let input = if l == 0 { c } else { h };
                    LayerAt {
                        input,
                        wx: take(input * gh),
                        wh: take(h * gh),
                        bx: take(gh),
                        bh: take(gh),
                    }
                })
                .collect::<Vec<_>>()
        };
        let enc = stack(&mut take);
        let dec = stack(&mut take);
        let wo = take(h * c);
        let bo = take(c);
        Self {
            shape,
            enc,
            dec,
            wo,
            bo,
            tensors,
            len: at,
        }
    }

    /// Total number of weights.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the model has no weights (never, for a valid shape).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The model shape.
    pub fn shape(&self) -> ModelShape {
        self.shape
    }

    /// `(start, len)` of every weight tensor in the flat vector, in order (an optimizer that
    /// treats each tensor alone, as gradient-norm clipping does, walks these).
    pub fn tensors(&self) -> &[(usize, usize)] {
        &self.tensors
    }
}

/// All weights of one model, flat, with their layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The layout.
    pub layout: Layout,
    /// The values, `layout.len()` of them.
    pub data: Vec<f32>,
}

fn values<const D: usize>(p: &Param<Tensor<D>>) -> Vec<f32> {
    p.val()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 weights")
}

impl Weights {
    /// Copies the weights out of a burn model.
    pub fn from_model(model: &Seq2Seq) -> Self {
        let layers = model.encoder.len();
        let first = &model.encoder[0];
        let [channels, _] = first.wx.val().dims();
        let cell = if first.gates == 4 {
            CellKind::Lstm
        } else {
            CellKind::Gru
        };
        let layout = Layout::new(ModelShape {
            cell,
            layers,
            hidden: first.hidden,
            channels,
        });
        let mut data = Vec::with_capacity(layout.len);
        for layer in model.encoder.iter().chain(&model.decoder) {
            data.extend(values(&layer.wx));
            data.extend(values(&layer.wh));
            data.extend(values(&layer.bx));
            data.extend(values(&layer.bh));
        }
        data.extend(values(&model.wo));
        data.extend(values(&model.bo));
        assert_eq!(data.len(), layout.len, "weights match the layout");
        Self { layout, data }
    }

    /// A burn model holding these weights, on `device`.
    pub fn to_model(&self, device: &Device) -> Seq2Seq {
        let s = self.layout.shape;
        let (h, c) = (s.hidden, s.channels);
        let gh = s.cell.gates() * h;
        let t2 = |at: usize, shape: [usize; 2]| {
            let v = self.data[at..at + shape[0] * shape[1]].to_vec();
            Param::from_data(TensorData::new(v, shape), device)
        };
        let t1 = |at: usize, n: usize| {
            Param::from_data(TensorData::new(self.data[at..at + n].to_vec(), [n]), device)
        };
        let layer = |l: &LayerAt| RecurrentLayer {
            wx: t2(l.wx, [l.input, gh]),
            wh: t2(l.wh, [h, gh]),
            bx: t1(l.bx, gh),
            bh: t1(l.bh, gh),
            hidden: h,
            gates: s.cell.gates(),
        };
        Seq2Seq {
            encoder: self.layout.enc.iter().map(layer).collect(),
            decoder: self.layout.dec.iter().map(layer).collect(),
            wo: t2(self.layout.wo, [h, c]),
            bo: t1(self.layout.bo, c),
        }
    }
}
