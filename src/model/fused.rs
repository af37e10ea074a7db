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
//! to every weight (backpropagation through time, derived by hand below), the
//! autoregressive [`Seq2Seq::forecast`], and burn's Adam update, on plain `f32` slices:
//!
//! - one matmul projects a layer's whole input sequence, one matmul per time step computes
//!   all gates (the fused cell of [`super`]); the backward pass collects the gate gradients
//!   of all steps and turns them into weight gradients with one matmul each;
//! - activations are stored time-major (`[t][batch][unit]`), so a time step is one
//!   contiguous block and the inner loops run over contiguous memory (auto-vectorised);
//! - all buffers live in a [`Workspace`] reused from step to step: no allocation per step;
//! - no locks and no shared state: fits on different threads do not touch each other.
//!
//! The generic burn path ([`Seq2Seq`] on any burn device) stays: it is what runs on libtorch
//! (`--features tch`, GPUs), and it is the oracle this module is tested against (loss,
//! every gradient, the forecast and the optimizer update agree to 1e-4 on random inputs).
//! Weights move between the two with [`Weights::from_model`] and [`Weights::to_model`].

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

// ---------------------------------------------------------------------------------------
// Small dense kernels. Row-major; the innermost loop always runs over a contiguous output
// row, which the compiler vectorises (a dot-product inner loop would not be: it cannot
// reorder float additions).

/// `out[m×n] += a[m×k] · b[k×n]`.
fn gemm_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    for (arow, orow) in a[..m * k].chunks_exact(k).zip(out.chunks_exact_mut(n)) {
        for (&s, brow) in arow.iter().zip(b.chunks_exact(n)) {
            for (o, &v) in orow.iter_mut().zip(brow) {
                *o += s * v;
            }
        }
    }
}

/// `out[k×n] += aᵀ · b` for `a[m×k]`, `b[m×n]`.
fn gemm_tn_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    for (arow, brow) in a[..m * k].chunks_exact(k).zip(b.chunks_exact(n)) {
        for (&s, orow) in arow.iter().zip(out.chunks_exact_mut(n)) {
            for (o, &v) in orow.iter_mut().zip(brow) {
                *o += s * v;
            }
        }
    }
}

/// `out[cols×rows] = aᵀ` for `a[rows×cols]`.
fn transpose(rows: usize, cols: usize, a: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.resize(rows * cols, 0.0);
    for (r, row) in a[..rows * cols].chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
}

/// Each row of `out[m×n]` set to `bias[n]`.
fn fill_rows(out: &mut [f32], bias: &[f32]) {
    for row in out.chunks_exact_mut(bias.len()) {
        row.copy_from_slice(bias);
    }
}

/// `out[n] += Σ_rows a[rows×n]`.
fn sum_rows_acc(a: &[f32], out: &mut [f32]) {
    for row in a.chunks_exact(out.len()) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn resize(v: &mut Vec<f32>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

// ---------------------------------------------------------------------------------------
// One recurrent layer over a sequence.
//
// GRU (PyTorch's `reset_after` form, as in [`super`]): with `a = x W_x + b_x` and
// `q = h W_h + b_h`, split in blocks (r, z, n):
//   r = σ(a_r + q_r), z = σ(a_z + q_z), n = tanh(a_n + r ⊙ q_n), h' = n + z ⊙ (h - n).
// Backward, given dh' (the gradient on h'):
//   dn = dh' ⊙ (1 - z), dz = dh' ⊙ (h - n), dh = dh' ⊙ z + dq W_hᵀ,
//   da_n = dn ⊙ (1 - n²), dr = da_n ⊙ q_n, da_r = dr ⊙ r(1 - r), da_z = dz ⊙ z(1 - z),
//   da = (da_r, da_z, da_n), dq = (da_r, da_z, da_n ⊙ r).
// LSTM: with `s = a + q` in blocks (i, f, g, o):
//   i = σ(s_i), f = σ(s_f), g = tanh(s_g), o = σ(s_o), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
// Backward, given dh' and dc' (from later steps):
//   dc* = dc' + dh' ⊙ o ⊙ (1 - tanh²c'), do = dh' ⊙ tanh c', di = dc* ⊙ g, df = dc* ⊙ c,
//   dg = dc* ⊙ i, dc = dc* ⊙ f, ds = (di i(1-i), df f(1-f), dg (1-g²), do o(1-o)) = da = dq,
//   dh = dq W_hᵀ.
// Weight gradients, summed over steps and batch: dW_x += xᵀ da, db_x += da, dW_h += hᵀ dq,
// db_h += dq; and the input gradient dx = da W_xᵀ.

/// What one layer's forward pass keeps for its backward pass. All `[t][batch][unit]`.
#[derive(Debug, Default, Clone)]
struct LayerCache {
    /// Input projection plus bias, `[T][B][G*H]`.
    gx: Vec<f32>,
    /// Hidden states `h_0 .. h_T`, `[T+1][B][H]`; `h_1..h_T` are the layer's outputs.
    hs: Vec<f32>,
    /// LSTM cell states `c_0 .. c_T`, `[T+1][B][H]` (empty for GRU).
    cs: Vec<f32>,
    /// Gate activations, `[T][B][4*H]`: GRU `r, z, n, q_n`; LSTM `i, f, g, o`.
    gates: Vec<f32>,
    /// Recurrent projection of one step, `[B][G*H]` (scratch).
    gh: Vec<f32>,
}

/// Scratch for one layer's backward pass.
#[derive(Debug, Default, Clone)]
struct GradScratch {
    /// `da`, `[T][B][G*H]`.
    dgx: Vec<f32>,
    /// `dq`, `[T][B][G*H]`.
    dgh: Vec<f32>,
    /// Gradient on the current `h`, `[B][H]`; the gradient on `h_0` when done.
    dh: Vec<f32>,
    /// Gradient on the current `c` (LSTM), `[B][H]`; the gradient on `c_0` when done.
    dc: Vec<f32>,
    /// `W_hᵀ`, `[G*H][H]`, and `W_xᵀ`, `[G*H][I]`.
    wht: Vec<f32>,
    wxt: Vec<f32>,
}

/// Views of one layer's weights.
struct LayerW<'a> {
    cell: CellKind,
    input: usize,
    hidden: usize,
    wx: &'a [f32],
    wh: &'a [f32],
    bx: &'a [f32],
    bh: &'a [f32],
}

/// Mutable views of one layer's gradients.
struct LayerG<'a> {
    wx: &'a mut [f32],
    wh: &'a mut [f32],
    bx: &'a mut [f32],
    bh: &'a mut [f32],
}

impl<'a> LayerW<'a> {
    fn new(at: &LayerAt, shape: ModelShape, w: &'a [f32]) -> Self {
        let g = shape.cell.gates() * shape.hidden;
        Self {
            cell: shape.cell,
            input: at.input,
            hidden: shape.hidden,
            wx: &w[at.wx..at.wx + at.input * g],
            wh: &w[at.wh..at.wh + shape.hidden * g],
            bx: &w[at.bx..at.bx + g],
            bh: &w[at.bh..at.bh + g],
        }
    }

    fn g(&self) -> usize {
        self.cell.gates() * self.hidden
    }

    /// `gx[rows][G*H] = x[rows][I] W_x + b_x`.
    fn project(&self, rows: usize, x: &[f32], gx: &mut Vec<f32>) {
        let g = self.g();
        resize(gx, rows * g);
        fill_rows(gx, self.bx);
        gemm_acc(rows, self.input, g, x, self.wx, gx);
    }

    /// One cell step for a batch of `b`: projected input `gx` `[B][G*H]` and state `h`, `c`
    /// `[B][H]` in; new state out to `h_out`, `c_out` and the gates to `gates` `[B][4H]`.
    /// `q` is scratch `[B][G*H]`. `c`, `c_out` are empty for a GRU.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        b: usize,
        gx: &[f32],
        h: &[f32],
        c: &[f32],
        q: &mut [f32],
        gates: &mut [f32],
        h_out: &mut [f32],
        c_out: &mut [f32],
    ) {
        let (hn, g) = (self.hidden, self.g());
        fill_rows(&mut q[..b * g], self.bh);
        gemm_acc(b, hn, g, h, self.wh, q);
        for bi in 0..b {
            let a = &gx[bi * g..(bi + 1) * g];
            let qr = &q[bi * g..(bi + 1) * g];
            let gt = &mut gates[bi * 4 * hn..(bi + 1) * 4 * hn];
            let hp = &h[bi * hn..(bi + 1) * hn];
            let ho = &mut h_out[bi * hn..(bi + 1) * hn];
            match self.cell {
                CellKind::Gru => {
                    for j in 0..hn {
                        let r = sigmoid(a[j] + qr[j]);
                        let z = sigmoid(a[hn + j] + qr[hn + j]);
                        let qn = qr[2 * hn + j];
                        let n = (a[2 * hn + j] + r * qn).tanh();
                        ho[j] = n + z * (hp[j] - n);
                        gt[j] = r;
                        gt[hn + j] = z;
                        gt[2 * hn + j] = n;
                        gt[3 * hn + j] = qn;
                    }
                }
                CellKind::Lstm => {
                    let cp = &c[bi * hn..(bi + 1) * hn];
                    let co = &mut c_out[bi * hn..(bi + 1) * hn];
                    for j in 0..hn {
                        let i = sigmoid(a[j] + qr[j]);
                        let f = sigmoid(a[hn + j] + qr[hn + j]);
                        let gg = (a[2 * hn + j] + qr[2 * hn + j]).tanh();
                        let o = sigmoid(a[3 * hn + j] + qr[3 * hn + j]);
                        let cn = f * cp[j] + i * gg;
                        co[j] = cn;
                        ho[j] = o * cn.tanh();
                        gt[j] = i;
                        gt[hn + j] = f;
                        gt[2 * hn + j] = gg;
                        gt[3 * hn + j] = o;
                    }
                }
            }
        }
    }

    /// Runs `t` steps over `x` `[T][B][I]` from the state `h0` (`c0`), filling `cache`.
    fn forward(
        &self,
        t: usize,
        b: usize,
        x: &[f32],
        h0: &[f32],
        c0: &[f32],
        cache: &mut LayerCache,
    ) {
        let (hn, g) = (self.hidden, self.g());
        let lstm = self.cell == CellKind::Lstm;
        self.project(t * b, x, &mut cache.gx);
        resize(&mut cache.hs, (t + 1) * b * hn);
        cache.hs[..b * hn].copy_from_slice(h0);
        if lstm {
            resize(&mut cache.cs, (t + 1) * b * hn);
            cache.cs[..b * hn].copy_from_slice(c0);
        } else {
            cache.cs.clear();
        }
        resize(&mut cache.gates, t * b * 4 * hn);
        resize(&mut cache.gh, b * g);
        let bh = b * hn;
        for k in 0..t {
            let (hp, hn_) = cache.hs.split_at_mut((k + 1) * bh);
            let (cp, cn_): (&[f32], &mut [f32]) = if lstm {
                let (p, n) = cache.cs.split_at_mut((k + 1) * bh);
                (&p[k * bh..], &mut n[..bh])
            } else {
                (&[], &mut [])
            };
            self.step(
                b,
                &cache.gx[k * b * g..(k + 1) * b * g],
                &hp[k * bh..],
                cp,
                &mut cache.gh,
                &mut cache.gates[k * b * 4 * hn..(k + 1) * b * 4 * hn],
                &mut hn_[..bh],
                cn_,
            );
        }
    }

    /// Backpropagates through the `t` steps of `cache` (whose input was `x` `[T][B][I]`).
    ///
    /// `d_out` `[T][B][H]` is the gradient on the outputs `h_1..h_T` (`None`: zero); on
    /// entry `s.dh` (`s.dc`) hold the gradient on the final state, on exit the gradient on
    /// the initial state. Weight gradients are added to `grad`; the input gradient is
    /// written to `dx` when given.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        t: usize,
        b: usize,
        x: &[f32],
        cache: &LayerCache,
        d_out: Option<&[f32]>,
        s: &mut GradScratch,
        grad: LayerG<'_>,
        dx: Option<&mut Vec<f32>>,
    ) {
        let (hn, g) = (self.hidden, self.g());
        let bh = b * hn;
        resize(&mut s.dgx, t * b * g);
        resize(&mut s.dgh, t * b * g);
        transpose(hn, g, self.wh, &mut s.wht);
        for k in (0..t).rev() {
            if let Some(d) = d_out {
                for (a, &v) in s.dh.iter_mut().zip(&d[k * bh..(k + 1) * bh]) {
                    *a += v;
                }
            }
            let gates = &cache.gates[k * b * 4 * hn..(k + 1) * b * 4 * hn];
            let hp = &cache.hs[k * bh..(k + 1) * bh];
            let dgx = &mut s.dgx[k * b * g..(k + 1) * b * g];
            let dgh = &mut s.dgh[k * b * g..(k + 1) * b * g];
            for bi in 0..b {
                let gt = &gates[bi * 4 * hn..(bi + 1) * 4 * hn];
                let da = &mut dgx[bi * g..(bi + 1) * g];
                let dq = &mut dgh[bi * g..(bi + 1) * g];
                let dh = &mut s.dh[bi * hn..(bi + 1) * hn];
                match self.cell {
                    CellKind::Gru => {
                        let hp = &hp[bi * hn..(bi + 1) * hn];
                        for j in 0..hn {
                            let (r, z, n, qn) = (gt[j], gt[hn + j], gt[2 * hn + j], gt[3 * hn + j]);
                            let d = dh[j];
                            let dn = d * (1.0 - z);
                            let dz = d * (hp[j] - n);
                            let dan = dn * (1.0 - n * n);
                            let dar = dan * qn * r * (1.0 - r);
                            let daz = dz * z * (1.0 - z);
                            da[j] = dar;
                            da[hn + j] = daz;
                            da[2 * hn + j] = dan;
                            dq[j] = dar;
                            dq[hn + j] = daz;
                            dq[2 * hn + j] = dan * r;
                            dh[j] = d * z;
                        }
                    }
                    CellKind::Lstm => {
                        let cp = &cache.cs[k * bh + bi * hn..k * bh + (bi + 1) * hn];
                        let cn = &cache.cs[(k + 1) * bh + bi * hn..(k + 1) * bh + (bi + 1) * hn];
                        let dc = &mut s.dc[bi * hn..(bi + 1) * hn];
                        for j in 0..hn {
                            let (i, f, gg, o) = (gt[j], gt[hn + j], gt[2 * hn + j], gt[3 * hn + j]);
                            let tc = cn[j].tanh();
                            let d = dh[j];
                            let dcs = dc[j] + d * o * (1.0 - tc * tc);
                            da[j] = dcs * gg * i * (1.0 - i);
                            da[hn + j] = dcs * cp[j] * f * (1.0 - f);
                            da[2 * hn + j] = dcs * i * (1.0 - gg * gg);
                            da[3 * hn + j] = d * tc * o * (1.0 - o);
                            dc[j] = dcs * f;
                            dh[j] = 0.0;
                        }
                        dq.copy_from_slice(da);
                    }
                }
            }
            gemm_acc(b, g, hn, dgh, &s.wht, &mut s.dh);
        }
        let rows = t * b;
        gemm_tn_acc(rows, hn, g, &cache.hs[..rows * hn], &s.dgh, grad.wh);
        sum_rows_acc(&s.dgh, grad.bh);
        gemm_tn_acc(rows, self.input, g, x, &s.dgx, grad.wx);
        sum_rows_acc(&s.dgx, grad.bx);
        if let Some(dx) = dx {
            transpose(self.input, g, self.wx, &mut s.wxt);
            resize(dx, rows * self.input);
            gemm_acc(rows, g, self.input, &s.dgx, &s.wxt, dx);
        }
    }
}

fn layer_grads<'a>(at: &LayerAt, shape: ModelShape, grad: &'a mut [f32]) -> LayerG<'a> {
    // The four tensors of a layer are consecutive in the layout: wx, wh, bx, bh.
    let g = shape.cell.gates() * shape.hidden;
    let rest = &mut grad[at.wx..];
    let (wx, rest) = rest.split_at_mut(at.input * g);
    let (wh, rest) = rest.split_at_mut(shape.hidden * g);
    let (bx, rest) = rest.split_at_mut(g);
    let (bh, _) = rest.split_at_mut(g);
    LayerG { wx, wh, bx, bh }
}

// ---------------------------------------------------------------------------------------
// The whole model.

/// Buffers reused from one step to the next (one per fit; not shared between threads).
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    enc: Vec<LayerCache>,
    dec: Vec<LayerCache>,
    /// Input window, time-major `[T][B][C]`.
    xs: Vec<f32>,
    /// Targets, time-major `[H][B][C]`.
    ys: Vec<f32>,
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

/// `[B][T][C]` -> `[T][B][C]`.
fn time_major(src: &[f32], b: usize, t: usize, c: usize, out: &mut Vec<f32>) {
    resize(out, b * t * c);
    for bi in 0..b {
        for k in 0..t {
            out[(k * b + bi) * c..(k * b + bi + 1) * c]
                .copy_from_slice(&src[(bi * t + k) * c..(bi * t + k + 1) * c]);
        }
    }
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

    /// Mean squared error of the teacher-forced prediction and its gradient.
    ///
    /// `x` `[B][T][C]`, `y` `[B][H][C]`, `damping` `[H][C]`, as for
    /// [`Seq2Seq::forward_teacher`]. Writes d loss / d weight into `grad` (same layout as
    /// the weights) and returns the loss.
    pub fn loss_and_grad(
        &self,
        x: &[f32],
        y: &[f32],
        damping: &[f32],
        grad: &mut [f32],
        ws: &mut Workspace,
    ) -> f32 {
        let s = self.layout.shape;
        let (c, hn, layers) = (s.channels, s.hidden, s.layers);
        let horizon = damping.len() / c;
        let b = y.len() / (horizon * c);
        let t = x.len() / (b * c);
        let bh = b * hn;
        time_major(x, b, t, c, &mut ws.xs);
        time_major(y, b, horizon, c, &mut ws.ys);
        resize(&mut ws.dec_in, horizon * b * c);
        ws.dec_in[..b * c].copy_from_slice(&ws.xs[(t - 1) * b * c..]);
        ws.dec_in[b * c..].copy_from_slice(&ws.ys[..(horizon - 1) * b * c]);

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
        let last = &ws.xs[(t - 1) * b * c..];
        let n = (horizon * b * c) as f64;
        let mut sum = 0.0f64;
        for k in 0..horizon {
            let dk = &damping[k * c..(k + 1) * c];
            for bi in 0..b {
                let row = (k * b + bi) * c;
                for ch in 0..c {
                    let p = ws.pred[row + ch] + dk[ch] * last[bi * c + ch];
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

    /// Autoregressive forecast, as [`Seq2Seq::forecast`]: `x` `[B][window][C]` and
    /// `damping` `[H][C]` in, `[B][H][C]` out.
    pub fn forecast(
        &self,
        x: &[f32],
        window: usize,
        damping: &[f32],
        ws: &mut Workspace,
    ) -> Vec<f32> {
        let s = self.layout.shape;
        let (c, hn, layers) = (s.channels, s.hidden, s.layers);
        let g = s.cell.gates() * hn;
        let horizon = damping.len() / c;
        let b = x.len() / (window * c);
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
        let last = ws.prev.clone();
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
            let dk = &damping[k * c..(k + 1) * c];
            for bi in 0..b {
                for ch in 0..c {
                    let p = &mut ws.prev[bi * c + ch];
                    *p += dk[ch] * last[bi * c + ch];
                    out[(bi * horizon + k) * c + ch] = *p;
                }
            }
        }
        out
    }
}

/// Adam with coupled L2 and per-tensor gradient-norm clipping at 1: the update of
/// [`crate::train::optimizer`] (burn's `Adam`, default betas 0.9/0.999, epsilon 1e-5),
/// computed in place on the flat weights.
#[derive(Debug, Clone)]
pub struct Adam {
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
    pub fn new(n: usize, learning_rate: f64, l2: f64) -> Self {
        Self {
            learning_rate: learning_rate as f32,
            l2: l2 as f32,
            time: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// One update of `w` from the gradient `grad` (which it overwrites).
    pub fn step(&mut self, w: &mut Weights, grad: &mut [f32]) {
        self.time += 1;
        let bc2 = (1.0 - Self::BETA_2.powi(self.time)).sqrt();
        let factor = bc2 / (1.0 - Self::BETA_1.powi(self.time));
        let eps = Self::EPSILON * bc2;
        for &(at, n) in &w.layout.tensors {
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
pub struct Trainer {
    /// The current weights.
    pub weights: Weights,
    /// Buffers for the forward and backward passes (also usable for forecasts).
    pub workspace: Workspace,
    adam: Adam,
    grad: Vec<f32>,
}

impl Trainer {
    /// Starts from `weights` with a fresh Adam.
    pub fn new(weights: Weights, learning_rate: f64, l2: f64) -> Self {
        let n = weights.data.len();
        Self {
            weights,
            workspace: Workspace::default(),
            adam: Adam::new(n, learning_rate, l2),
            grad: vec![0.0; n],
        }
    }

    /// One teacher-forced step on `x` `[B][T][C]`, `y` `[B][H][C]` with `damping` `[H][C]`:
    /// loss and gradient, then the Adam update. Returns the loss before the update.
    pub fn step(&mut self, x: &[f32], y: &[f32], damping: &[f32]) -> f32 {
        let loss = self
            .weights
            .loss_and_grad(x, y, damping, &mut self.grad, &mut self.workspace);
        self.adam.step(&mut self.weights, &mut self.grad);
        loss
    }
}

#[cfg(test)]
mod tests {
    //! The fast path against the generic burn path (the oracle): same loss, same gradient of
    //! every weight, same forecast, same optimizer update, on random inputs.
    use super::*;
    use burn::optim::GradientsParams;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut impl Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    struct Case {
        model: Seq2Seq,
        x: Vec<f32>,
        y: Vec<f32>,
        damping: Vec<f32>,
        b: usize,
        t: usize,
        h: usize,
        c: usize,
    }

    fn case(cell: CellKind, layers: usize, seed: u64, device: &Device) -> Case {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let (b, t, h, c) = (3, 7, 4, 5);
        let shape = ModelShape {
            cell,
            layers,
            hidden: 6,
            channels: c,
        };
        let fresh = Seq2Seq::new(shape, &mut rng, device);
        // Non-zero output weights, as after training (they start at zero).
        let mut w = Weights::from_model(&fresh);
        let (wo, bo) = (w.layout.wo, w.layout.bo);
        for v in &mut w.data[wo..bo + c] {
            *v = rng.random_range(-0.5f32..0.5);
        }
        Case {
            model: w.to_model(device),
            x: random(&mut rng, b * t * c),
            y: random(&mut rng, b * h * c),
            damping: (0..h * c).map(|_| rng.random_range(0.0f32..1.0)).collect(),
            b,
            t,
            h,
            c,
        }
    }

    fn tensor3(v: &[f32], shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), device)
    }

    /// Every weight tensor's gradient from burn autodiff, flattened in layout order.
    fn burn_grads(m: &Seq2Seq, case: &Case, device: &Device) -> (f32, Vec<f32>) {
        let x = tensor3(&case.x, [case.b, case.t, case.c], device);
        let y = tensor3(&case.y, [case.b, case.h, case.c], device);
        let d = Tensor::<2>::from_data(
            TensorData::new(case.damping.clone(), [case.h, case.c]),
            device,
        );
        let loss = (m.forward_teacher(x, y.clone(), &d) - y).square().mean();
        let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
        let grads = GradientsParams::from_grads(loss.backward(), m);
        let mut flat = Vec::new();
        let g2 = |p: &Param<Tensor<2>>| {
            grads
                .get::<2>(p.id)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let g1 = |p: &Param<Tensor<1>>| {
            grads
                .get::<1>(p.id)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        for layer in m.encoder.iter().chain(&m.decoder) {
            flat.extend(g2(&layer.wx));
            flat.extend(g2(&layer.wh));
            flat.extend(g1(&layer.bx));
            flat.extend(g1(&layer.bh));
        }
        flat.extend(g2(&m.wo));
        flat.extend(g1(&m.bo));
        (value, flat)
    }

    fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!(
                (p - q).abs() <= tol * (1.0 + q.abs()),
                "{what}[{i}]: fast {p} vs burn {q}"
            );
        }
    }

    #[test]
    fn weights_round_trip_through_the_burn_model() {
        let device = Device::flex();
        let c = case(CellKind::Lstm, 2, 1, &device);
        let w = Weights::from_model(&c.model);
        assert_eq!(w.data.len(), w.layout.len());
        assert_eq!(Weights::from_model(&w.to_model(&device)), w);
    }

    #[test]
    fn loss_and_gradients_match_burn_autodiff() {
        let device = Device::flex().autodiff();
        for cell in [CellKind::Gru, CellKind::Lstm] {
            for layers in [1, 2] {
                let c = case(cell, layers, 7 + layers as u64, &device);
                let (loss, expected) = burn_grads(&c.model, &c, &device);
                let w = Weights::from_model(&c.model);
                let mut grad = vec![f32::NAN; w.data.len()];
                let mut ws = Workspace::default();
                // Twice through one workspace: reused buffers must not leak state.
                for _ in 0..2 {
                    let fast = w.loss_and_grad(&c.x, &c.y, &c.damping, &mut grad, &mut ws);
                    assert!(
                        (fast - loss).abs() < 1e-4 * (1.0 + loss),
                        "{cell:?}: {fast} vs {loss}"
                    );
                    assert_close(&grad, &expected, 1e-4, &format!("{cell:?} x{layers} grad"));
                }
                let live = expected.iter().filter(|g| g.abs() > 1e-5).count();
                assert!(
                    live > expected.len() * 3 / 4,
                    "{live} of {} gradients non-zero",
                    expected.len()
                );
            }
        }
    }

    #[test]
    fn forecast_matches_burn() {
        let device = Device::flex();
        for cell in [CellKind::Gru, CellKind::Lstm] {
            let c = case(cell, 2, 3, &device);
            let x = tensor3(&c.x, [c.b, c.t, c.c], &device);
            let d = Tensor::<2>::from_data(TensorData::new(c.damping.clone(), [c.h, c.c]), &device);
            let expected = c
                .model
                .forecast(x, &d)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let w = Weights::from_model(&c.model);
            let fast = w.forecast(&c.x, c.t, &c.damping, &mut Workspace::default());
            assert_close(&fast, &expected, 1e-5, &format!("{cell:?} forecast"));
        }
    }

    #[test]
    fn adam_matches_burns_optimizer() {
        let device = Device::flex().autodiff();
        let c = case(CellKind::Gru, 2, 11, &device);
        let (lr, l2) = (0.01, 1e-3);
        let mut optim = crate::train::optimizer(l2);
        let mut model = c.model.clone();
        let mut w = Weights::from_model(&c.model);
        let mut adam = Adam::new(w.data.len(), lr, l2);
        let mut grad = vec![0.0; w.data.len()];
        let mut ws = Workspace::default();
        let x = tensor3(&c.x, [c.b, c.t, c.c], &device);
        let d = Tensor::<2>::from_data(TensorData::new(c.damping.clone(), [c.h, c.c]), &device);
        for _ in 0..3 {
            // Scale the targets up so some gradient norms exceed 1 and clipping acts.
            let y: Vec<f32> = c.y.iter().map(|v| v * 20.0).collect();
            let yt = tensor3(&y, [c.b, c.h, c.c], &device);
            (model, _) = crate::train::step(model, &mut optim, lr, x.clone(), yt, &d);
            w.loss_and_grad(&c.x, &y, &c.damping, &mut grad, &mut ws);
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
