//! One recurrent layer over a sequence: the forward pass, keeping what the backward pass
//! needs, and the backward pass (backpropagation through time), derived by hand:
//!
//! ```text
//! GRU (PyTorch's `reset_after` form, as in `crate::model`): with `a = x W_x + b_x` and
//! `q = h W_h + b_h`, split in blocks (r, z, n):
//!   r = σ(a_r + q_r), z = σ(a_z + q_z), n = tanh(a_n + r ⊙ q_n), h' = n + z ⊙ (h - n).
//! Backward, given dh' (the gradient on h'):
//!   dn = dh' ⊙ (1 - z), dz = dh' ⊙ (h - n), dh = dh' ⊙ z + dq W_hᵀ,
//!   da_n = dn ⊙ (1 - n²), dr = da_n ⊙ q_n, da_r = dr ⊙ r(1 - r), da_z = dz ⊙ z(1 - z),
//!   da = (da_r, da_z, da_n), dq = (da_r, da_z, da_n ⊙ r).
//! LSTM: with `s = a + q` in blocks (i, f, g, o):
//!   i = σ(s_i), f = σ(s_f), g = tanh(s_g), o = σ(s_o), c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
//! Backward, given dh' and dc' (from later steps):
//!   dc* = dc' + dh' ⊙ o ⊙ (1 - tanh²c'), do = dh' ⊙ tanh c', di = dc* ⊙ g, df = dc* ⊙ c,
//!   dg = dc* ⊙ i, dc = dc* ⊙ f, ds = (di i(1-i), df f(1-f), dg (1-g²), do o(1-o)) = da = dq,
//!   dh = dq W_hᵀ.
//! Weight gradients, summed over steps and batch: dW_x += xᵀ da, db_x += da, dW_h += hᵀ dq,
//! db_h += dq; and the input gradient dx = da W_xᵀ.
//! ```

use super::kernels::{fill_rows, gemm_acc, gemm_tn_acc, resize, sigmoid, sum_rows_acc, transpose};
use super::LayerAt;
use crate::model::{CellKind, ModelShape};

/// What one layer's forward pass keeps for its backward pass. All `[t][batch][unit]`.
#[derive(Debug, Default, Clone)]
pub(super) struct LayerCache {
    /// Input projection plus bias, `[T][B][G*H]`.
    gx: Vec<f32>,
    /// Hidden states `h_0 .. h_T`, `[T+1][B][H]`; `h_1..h_T` are the layer's outputs.
    pub(super) hs: Vec<f32>,
    /// LSTM cell states `c_0 .. c_T`, `[T+1][B][H]` (empty for GRU).
    pub(super) cs: Vec<f32>,
    /// Gate activations, `[T][B][4*H]`: GRU `r, z, n, q_n`; LSTM `i, f, g, o`.
    gates: Vec<f32>,
    /// Recurrent projection of one step, `[B][G*H]` (scratch).
    gh: Vec<f32>,
}

/// Scratch for one layer's backward pass.
#[derive(Debug, Default, Clone)]
pub(super) struct GradScratch {
    /// `da`, `[T][B][G*H]`.
    dgx: Vec<f32>,
    /// `dq`, `[T][B][G*H]`.
    dgh: Vec<f32>,
    /// Gradient on the current `h`, `[B][H]`; the gradient on `h_0` when done.
    pub(super) dh: Vec<f32>,
    /// Gradient on the current `c` (LSTM), `[B][H]`; the gradient on `c_0` when done.
    pub(super) dc: Vec<f32>,
    /// `W_hᵀ`, `[G*H][H]`, and `W_xᵀ`, `[G*H][I]`.
    wht: Vec<f32>,
    wxt: Vec<f32>,
}

/// Views of one layer's weights.
pub(super) struct LayerW<'a> {
    cell: CellKind,
    input: usize,
    hidden: usize,
    wx: &'a [f32],
    wh: &'a [f32],
    bx: &'a [f32],
    bh: &'a [f32],
}

/// Mutable views of one layer's gradients.
pub(super) struct LayerG<'a> {
    wx: &'a mut [f32],
    wh: &'a mut [f32],
    bx: &'a mut [f32],
    bh: &'a mut [f32],
}

impl<'a> LayerW<'a> {
    pub(super) fn new(at: &LayerAt, shape: ModelShape, w: &'a [f32]) -> Self {
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
    pub(super) fn project(&self, rows: usize, x: &[f32], gx: &mut Vec<f32>) {
        let g = self.g();
        resize(gx, rows * g);
        fill_rows(gx, self.bx);
        gemm_acc(rows, self.input, g, x, self.wx, gx);
    }

    /// One cell step for a batch of `b`: projected input `gx` `[B][G*H]` and state `h`, `c`
    /// `[B][H]` in; new state out to `h_out`, `c_out` and the gates to `gates` `[B][4H]`.
    /// `q` is scratch `[B][G*H]`. `c`, `c_out` are empty for a GRU.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn step(
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
    pub(super) fn forward(
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
    pub(super) fn backward(
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

pub(super) fn layer_grads<'a>(at: &LayerAt, shape: ModelShape, grad: &'a mut [f32]) -> LayerG<'a> {
    // The four tensors of a layer are consecutive in the layout: wx, wh, bx, bh.
    let g = shape.cell.gates() * shape.hidden;
    let rest = &mut grad[at.wx..];
    let (wx, rest) = rest.split_at_mut(at.input * g);
    let (wh, rest) = rest.split_at_mut(shape.hidden * g);
    let (bx, rest) = rest.split_at_mut(g);
    let (bh, _) = rest.split_at_mut(g);
    LayerG { wx, wh, bx, bh }
}
