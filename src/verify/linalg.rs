//! Small dense linear algebra for the LIM, without a linear-algebra crate: matrix products
//! with the (large, `f32`) data matrix in parallel, Gram-Schmidt, a cyclic Jacobi
//! eigensolver, Gaussian elimination with partial pivoting, and a fixed random stream.

use rayon::prelude::*;

/// The first `m` of `k` columns of a `[row][k]` matrix.
pub(crate) fn truncate(x: &[f64], rows: usize, k: usize, m: usize) -> Vec<f64> {
    (0..rows)
        .flat_map(|r| x[r * k..r * k + m].iter().copied())
        .collect()
}

/// `G x` for a row-major `m x m` matrix.
pub(crate) fn mat_vec(g: &[f64], x: &[f64], m: usize) -> Vec<f64> {
    (0..m)
        .map(|i| {
            g[i * m..(i + 1) * m]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

/// Solves `a x = b` (`a`: `m x m`, `b`: `m x r`, row-major) by Gaussian elimination with
/// partial pivoting. `None` when `a` is singular to working precision.
pub(crate) fn solve(mut a: Vec<f64>, mut b: Vec<f64>, m: usize, r: usize) -> Option<Vec<f64>> {
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    if scale == 0.0 {
        return None;
    }
    for col in 0..m {
        let piv =
            (col..m).max_by(|&i, &j| a[i * m + col].abs().total_cmp(&a[j * m + col].abs()))?;
        if a[piv * m + col].abs() <= 1e-13 * scale {
            return None;
        }
        if piv != col {
            for j in 0..m {
                a.swap(piv * m + j, col * m + j);
            }
            for j in 0..r {
                b.swap(piv * r + j, col * r + j);
            }
        }
        for i in col + 1..m {
            let f = a[i * m + col] / a[col * m + col];
            if f != 0.0 {
                for j in col..m {
                    a[i * m + j] -= f * a[col * m + j];
                }
                for j in 0..r {
                    b[i * r + j] -= f * b[col * r + j];
                }
            }
        }
    }
    let mut x = vec![0.0f64; m * r];
    for i in (0..m).rev() {
        for j in 0..r {
            let s: f64 = (i + 1..m).map(|k| a[i * m + k] * x[k * r + j]).sum();
            x[i * r + j] = (b[i * r + j] - s) / a[i * m + i];
        }
    }
    Some(x)
}

/// A uniform number in -1..1 (SplitMix64): a fixed stream, independent of any crate.
pub(crate) fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// `A M` for `a` (`nt x nv`) and `m` (`nv x l`): `nt x l`.
pub(crate) fn mul_a(a: &[f32], nt: usize, nv: usize, m: &[f64], l: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; nt * l];
    out.par_chunks_mut(l.max(1)).enumerate().for_each(|(t, o)| {
        for (v, &x) in a[t * nv..(t + 1) * nv].iter().enumerate() {
            let x = x as f64;
            for (oj, mj) in o.iter_mut().zip(&m[v * l..(v + 1) * l]) {
                *oj += x * mj;
            }
        }
    });
    out
}

/// `A^T Y` for `a` (`nt x nv`) and `y` (`nt x l`): `nv x l`.
pub(crate) fn mul_at(a: &[f32], nt: usize, nv: usize, y: &[f64], l: usize) -> Vec<f64> {
    const CHUNK: usize = 256;
    let mut out = vec![0.0f64; nv * l];
    out.par_chunks_mut((CHUNK * l).max(1))
        .enumerate()
        .for_each(|(ci, o)| {
            let v0 = ci * CHUNK;
            let rows = o.len() / l.max(1);
            for t in 0..nt {
                let yt = &y[t * l..(t + 1) * l];
                let at = &a[t * nv + v0..t * nv + v0 + rows];
                for (r, &x) in at.iter().enumerate() {
                    let x = x as f64;
                    for (oj, yj) in o[r * l..(r + 1) * l].iter_mut().zip(yt) {
                        *oj += x * yj;
                    }
                }
            }
        });
    out
}

/// Orthonormalises the columns of a `[rows][l]` matrix in place (modified Gram-Schmidt,
/// twice); a column that depends on the earlier ones becomes zero.
pub(crate) fn orthonormalise(x: &mut [f64], rows: usize, l: usize) {
    for j in 0..l {
        let before: f64 = (0..rows).map(|r| x[r * l + j].powi(2)).sum::<f64>().sqrt();
        for _ in 0..2 {
            for i in 0..j {
                let d: f64 = (0..rows).map(|r| x[r * l + i] * x[r * l + j]).sum();
                for r in 0..rows {
                    x[r * l + j] -= d * x[r * l + i];
                }
            }
        }
        let norm: f64 = (0..rows).map(|r| x[r * l + j].powi(2)).sum::<f64>().sqrt();
        let keep = norm > 1e-10 * before && norm > 0.0;
        for r in 0..rows {
            x[r * l + j] = if keep { x[r * l + j] / norm } else { 0.0 };
        }
    }
}

/// Eigen-decomposition of a symmetric `n x n` matrix by cyclic Jacobi rotations: eigenvalues
/// in decreasing order and the eigenvectors as the columns of a row-major `n x n` matrix.
pub(crate) fn jacobi(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q].powi(2))
            .sum();
        if off <= 1e-26 * total || total == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let vals = order.iter().map(|&i| a[i * n + i]).collect();
    let vecs = (0..n * n).map(|k| v[(k / n) * n + order[k % n]]).collect();
    (vals, vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_and_jacobi_by_hand() {
        // Needs a row swap: the first pivot is 0.
        let x = solve(vec![0.0, 2.0, 1.0, 1.0], vec![4.0, 3.0], 2, 1).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        assert!(solve(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 1.0], 2, 1).is_none());
        let (vals, vecs) = jacobi(vec![2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        assert!((vecs[0].abs() - 0.5f64.sqrt()).abs() < 1e-12);
        assert!(
            (vecs[0] - vecs[2]).abs() < 1e-12,
            "first eigenvector is (1, 1)/sqrt 2"
        );
    }
}
