//! Small dense kernels on flat `f32` slices, for the fused forward and backward passes.
//!
//! Row-major; the innermost loop always runs over a contiguous output row, which the compiler
//! vectorises (a dot-product inner loop would not be: it cannot reorder float additions).

/// `out[m×n] += a[m×k] · b[k×n]`.
pub(super) fn gemm_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    for (arow, orow) in a[..m * k].chunks_exact(k).zip(out.chunks_exact_mut(n)) {
        for (&s, brow) in arow.iter().zip(b.chunks_exact(n)) {
            for (o, &v) in orow.iter_mut().zip(brow) {
                *o += s * v;
            }
        }
    }
}

/// `out[k×n] += aᵀ · b` for `a[m×k]`, `b[m×n]`.
pub(super) fn gemm_tn_acc(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], out: &mut [f32]) {
    for (arow, brow) in a[..m * k].chunks_exact(k).zip(b.chunks_exact(n)) {
        for (&s, orow) in arow.iter().zip(out.chunks_exact_mut(n)) {
            for (o, &v) in orow.iter_mut().zip(brow) {
                *o += s * v;
            }
        }
    }
}

/// `out[cols×rows] = aᵀ` for `a[rows×cols]`.
pub(super) fn transpose(rows: usize, cols: usize, a: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.resize(rows * cols, 0.0);
    for (r, row) in a[..rows * cols].chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
}

/// Each row of `out[m×n]` set to `bias[n]`.
pub(super) fn fill_rows(out: &mut [f32], bias: &[f32]) {
    for row in out.chunks_exact_mut(bias.len()) {
        row.copy_from_slice(bias);
    }
}

/// `out[n] += Σ_rows a[rows×n]`.
pub(super) fn sum_rows_acc(a: &[f32], out: &mut [f32]) {
    for row in a.chunks_exact(out.len()) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[inline]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub(super) fn resize(v: &mut Vec<f32>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

/// `[B][T][C]` -> `[T][B][C]`.
pub(super) fn time_major(src: &[f32], b: usize, t: usize, c: usize, out: &mut Vec<f32>) {
    resize(out, b * t * c);
    for bi in 0..b {
        for k in 0..t {
            out[(k * b + bi) * c..(k * b + bi + 1) * c]
                .copy_from_slice(&src[(bi * t + k) * c..(bi * t + k + 1) * c]);
        }
    }
}
