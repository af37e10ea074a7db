//! The whole encoder-decoder on flat weights: the teacher-forced loss and its gradient
//! ([`Weights::loss_and_grad`], the forward and backward pass of a training step) and the
//! autoregressive forecast ([`Weights::forecast`]), through reusable [`Workspace`] buffers.

use super::cell::{layer_grads, GradScratch, LayerCache, LayerW};
use super::kernels::{
    fill_rows, gemm_acc, gemm_tn_acc, resize, sum_rows_acc, time_major, transpose,
};
use super::{LayerAt, Weights};
use crate::model::CellKind;

/// One training batch for [`Weights::loss_and_grad`]: `x` `[B][T][C]`; the targets `y`, the
/// baseline `base` the network corrects and, optionally, the decoder's inputs `fed`, each
/// `[B][H][C]` with `horizon` = H.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainBatch<'a> {
    pub(crate) x: &'a [f32],
    pub(crate) y: &'a [f32],
    pub(crate) base: &'a [f32],
    /// `None`: the decoder is fed the targets (teacher forcing).
    pub(crate) fed: Option<&'a [f32]>,
    pub(crate) horizon: usize,
}

/// Buffers reused from one step to the next (one per fit; not shared between threads).
#[derive(Debug, Default, Clone)]
pub(crate) struct Workspace {
    enc: Vec<LayerCache>,
    dec: Vec<LayerCache>,
    /// Input window, time-major `[T][B][C]`.
    xs: Vec<f32>,
    /// Targets, time-major `[H][B][C]`.
    ys: Vec<f32>,
    /// The baseline forecast the network corrects, time-major `[H][B][C]`.
    base: Vec<f32>,
    /// The decoder's fed inputs when they are not the targets, time-major `[H][B][C]`.
    fed: Vec<f32>,
    /// Decoder inputs (teacher forcing), `[H][B][C]`.
    dec_in: Vec<f32>,
    /// Predictions, then their loss gradient, `[H][B][C]`.
    pred: Vec<f32>,
    /// Gradient on the top decoder outputs / on a layer's input, `[H][B][·]`.
    d_a: Vec<f32>,
    d_b: Vec<f32>,
    /// Gradients on the encoder's final states, per layer.
    dh0: Vec<Vec<f32>>,
    dc0: Vec<Vec<f32>>,
    wot: Vec<f32>,
    scratch: GradScratch,
    /// Autoregressive decoding state.
    h: Vec<Vec<f32>>,
    c: Vec<Vec<f32>>,
    h_next: Vec<f32>,
    c_next: Vec<f32>,
    prev: Vec<f32>,
    gx: Vec<f32>,
    gates: Vec<f32>,
    /// The encoder's initial state, `[B][H]` zeros.
    zeros: Vec<f32>,
}

impl Weights {
    fn layer(&self, at: &LayerAt) -> LayerW<'_> {
        LayerW::new(at, self.layout.shape, &self.data)
    }

    /// Runs the encoder over `ws.xs` (`t` steps, batch `b`), filling `ws.enc`.
    fn encode(&self, t: usize, b: usize, ws: &mut Workspace) {
        let s = self.layout.shape;
        resize(&mut ws.zeros, b * s.hidden);
        let zeros = &ws.zeros;
        ws.enc.resize_with(s.layers, LayerCache::default);
        for (l, at) in self.layout.enc.iter().enumerate() {
            let (below, here) = ws.enc.split_at_mut(l);
            let input: &[f32] = if l == 0 {
                &ws.xs
            } else {
                &below[l - 1].hs[b * s.hidden..]
            };
            self.layer(at)
                .forward(t, b, input, zeros, zeros, &mut here[0]);
        }
    }

    /// Final state of encoder layer `l`: `(h, c)` slices `[B][H]` (`c` empty for GRU).
    fn enc_final(enc: &[LayerCache], l: usize, t: usize, bh: usize) -> (&[f32], &[f32]) {
        let e = &enc[l];
        let c: &[f32] = if e.cs.is_empty() {
            &[]
        } else {
            &e.cs[t * bh..(t + 1) * bh]
        };
        (&e.hs[t * bh..(t + 1) * bh], c)
    }

    /// Mean squared error of the prediction of `batch` and its gradient.
    ///
    /// As [`Seq2Seq::forward_teacher`]: decoder step `k` is fed `batch.fed[k-1]` (the truth
    /// `y` when `fed` is `None`: teacher forcing). Writes d loss / d weight into `grad`
    /// (same layout as the weights) and returns the loss. The fed inputs are constants: no
    /// gradient flows through them.
    pub(crate) fn loss_and_grad(
        &self,
        batch: &TrainBatch<'_>,
        grad: &mut [f32],
        ws: &mut Workspace,
    ) -> f32 {
        let TrainBatch {
            x,
            y,
            base,
            fed,
            horizon,
        } = *batch;
        let s = self.layout.shape;
        let (c, hn, layers) = (s.channels, s.hidden, s.layers);
        let b = y.len() / (horizon * c);
        let t = x.len() / (b * c);
        let bh = b * hn;
        time_major(x, b, t, c, &mut ws.xs);
        time_major(y, b, horizon, c, &mut ws.ys);
        time_major(base, b, horizon, c, &mut ws.base);
        resize(&mut ws.dec_in, horizon * b * c);
        ws.dec_in[..b * c].copy_from_slice(&ws.xs[(t - 1) * b * c..]);
        match fed {
            Some(fed) => {
                time_major(fed, b, horizon, c, &mut ws.fed);
                ws.dec_in[b * c..].copy_from_slice(&ws.fed[..(horizon - 1) * b * c]);
            }
            None => ws.dec_in[b * c..].copy_from_slice(&ws.ys[..(horizon - 1) * b * c]),
        }

        // Forward.
        self.encode(t, b, ws);
        ws.dec.resize_with(layers, LayerCache::default);
        for (l, at) in self.layout.dec.iter().enumerate() {
            let (h0, c0) = Self::enc_final(&ws.enc, l, t, bh);
            let (below, here) = ws.dec.split_at_mut(l);
            let input: &[f32] = if l == 0 {
                &ws.dec_in
            } else {
                &below[l - 1].hs[bh..]
            };
            self.layer(at)
                .forward(horizon, b, input, h0, c0, &mut here[0]);
        }
        let top = &ws.dec[layers - 1].hs[bh..];
        let (wo, bo) = (
            &self.data[self.layout.wo..self.layout.wo + hn * c],
            &self.data[self.layout.bo..self.layout.bo + c],
        );
        resize(&mut ws.pred, horizon * b * c);
        fill_rows(&mut ws.pred, bo);
        gemm_acc(horizon * b, hn, c, top, wo, &mut ws.pred);
        let n = (horizon * b * c) as f64;
        let mut sum = 0.0f64;
        for k in 0..horizon {
            for bi in 0..b {
                let row = (k * b + bi) * c;
                for ch in 0..c {
                    let p = ws.pred[row + ch] + ws.base[row + ch];
                    let e = p - ws.ys[row + ch];
                    sum += (e as f64) * (e as f64);
                    // From here on `pred` holds d loss / d prediction.
                    ws.pred[row + ch] = (2.0 * e as f64 / n) as f32;
                }
            }
        }

        // Backward.
        grad.fill(0.0);
        let l = &self.layout;
        {
            let (head, tail) = grad.split_at_mut(l.bo);
            gemm_tn_acc(
                horizon * b,
                hn,
                c,
                top,
                &ws.pred,
                &mut head[l.wo..l.wo + hn * c],
            );
            sum_rows_acc(&ws.pred, &mut tail[..c]);
        }
        transpose(hn, c, wo, &mut ws.wot);
        resize(&mut ws.d_a, horizon * bh);
        gemm_acc(horizon * b, c, hn, &ws.pred, &ws.wot, &mut ws.d_a);
        ws.dh0.resize_with(layers, Vec::new);
        ws.dc0.resize_with(layers, Vec::new);
        // Decoder, top layer first; its final state is unused (zero gradient).
        for (li, at) in l.dec.iter().enumerate().rev() {
            resize(&mut ws.scratch.dh, bh);
            resize(&mut ws.scratch.dc, bh);
            let input: &[f32] = if li == 0 {
                &ws.dec_in
            } else {
                &ws.dec[li - 1].hs[bh..]
            };
            self.layer(at).backward(
                horizon,
                b,
                input,
                &ws.dec[li],
                Some(&ws.d_a),
                &mut ws.scratch,
                layer_grads(at, s, grad),
                (li > 0).then_some(&mut ws.d_b),
            );
            std::mem::swap(&mut ws.d_a, &mut ws.d_b);
            ws.dh0[li].clone_from(&ws.scratch.dh);
            ws.dc0[li].clone_from(&ws.scratch.dc);
        }
        // Encoder, top layer first; its outputs feed nothing but the layer above.
        for (li, at) in l.enc.iter().enumerate().rev() {
            ws.scratch.dh.clone_from(&ws.dh0[li]);
            ws.scratch.dc.clone_from(&ws.dc0[li]);
            let input: &[f32] = if li == 0 {
                &ws.xs
            } else {
                &ws.enc[li - 1].hs[bh..]
            };
            let top = li + 1 == layers;
            self.layer(at).backward(
                t,
                b,
                input,
                &ws.enc[li],
                (!top).then_some(&ws.d_a[..]),
                &mut ws.scratch,
                layer_grads(at, s, grad),
                (li > 0).then_some(&mut ws.d_b),
            );
            std::mem::swap(&mut ws.d_a, &mut ws.d_b);
        }
        (sum / n) as f32
    }

    /// Autoregressive forecast, as [`Seq2Seq::forecast`]: `x` `[B][window][C]` and the
    /// baseline `base` `[B][H][C]` in, `[B][H][C]` out.
    pub(crate) fn forecast(
        &self,
        x: &[f32],
        window: usize,
        base: &[f32],
        ws: &mut Workspace,
    ) -> Vec<f32> {
        let s = self.layout.shape;
        let (c, hn, layers) = (s.channels, s.hidden, s.layers);
        let g = s.cell.gates() * hn;
        let b = x.len() / (window * c);
        let horizon = base.len() / (b * c);
        let (t, bh) = (window, b * hn);
        time_major(x, b, t, c, &mut ws.xs);
        self.encode(t, b, ws);
        ws.h.resize_with(layers, Vec::new);
        ws.c.resize_with(layers, Vec::new);
        for l in 0..layers {
            let (h0, c0) = Self::enc_final(&ws.enc, l, t, bh);
            ws.h[l].clear();
            ws.h[l].extend_from_slice(h0);
            ws.c[l].clear();
            ws.c[l].extend_from_slice(c0);
        }
        let lstm = s.cell == CellKind::Lstm;
        resize(&mut ws.h_next, bh);
        resize(&mut ws.c_next, if lstm { bh } else { 0 });
        resize(&mut ws.gates, b * 4 * hn);
        let mut q = vec![0.0f32; b * g];
        ws.prev.clear();
        ws.prev.extend_from_slice(&ws.xs[(t - 1) * b * c..]);
        let (wo, bo) = (
            &self.data[self.layout.wo..self.layout.wo + hn * c],
            &self.data[self.layout.bo..self.layout.bo + c],
        );
        let mut out = vec![0.0f32; b * horizon * c];
        let mut input = Vec::with_capacity(b * hn.max(c));
        for k in 0..horizon {
            input.clear();
            input.extend_from_slice(&ws.prev);
            for (l, at) in self.layout.dec.iter().enumerate() {
                let layer = self.layer(at);
                layer.project(b, &input, &mut ws.gx);
                layer.step(
                    b,
                    &ws.gx,
                    &ws.h[l],
                    &ws.c[l],
                    &mut q,
                    &mut ws.gates,
                    &mut ws.h_next,
                    &mut ws.c_next,
                );
                std::mem::swap(&mut ws.h[l], &mut ws.h_next);
                std::mem::swap(&mut ws.c[l], &mut ws.c_next);
                input.clear();
                input.extend_from_slice(&ws.h[l]);
            }
            fill_rows(&mut ws.prev, bo);
            gemm_acc(b, hn, c, &input, wo, &mut ws.prev);
            for bi in 0..b {
                for ch in 0..c {
                    let at = (bi * horizon + k) * c + ch;
                    let p = &mut ws.prev[bi * c + ch];
                    *p += base[at];
                    out[at] = *p;
                }
            }
        }
        out
    }
}
