//! The linear inverse model (LIM): the statistical benchmark behind NOAA PSL's SST forecasts.
//!
//! The training anomalies (against the training climatology) of the cells valid at every
//! training step, weighted by sqrt(cos latitude) so that squared distances are area-weighted,
//! are reduced to their leading N EOFs; in that PC space the propagator is
//! G = C(1) C(0)^-1 (lag-1 and lag-0 covariances over consecutive training steps: the
//! least-squares regression of x(t+1) on x(t)), and the lead-L forecast from a start is
//! G^L x(start - 1) projected back onto the grid, plus the climatology.
//!
//! N is chosen inside the training period by a time-ordered validation, never on verified
//! starts: the climatology, EOFs and G are fitted on the earlier part of the training steps,
//! and every start of the last part (the last 20% of the steps, at least two years) is
//! forecast for leads 1..horizon with each candidate N (1, 2, 3, 5, 8, 12, 16, 20, 25, 30,
//! capped by the cells and steps available); the N with the lowest area-weighted mean squared
//! error is refitted on all training steps.
//!
//! No linear-algebra crate: the EOFs come from the Gram matrix of the smaller dimension with a
//! Jacobi eigensolver when it is small (exact), otherwise from subspace iteration on the data
//! matrix (a randomised range finder with power iterations: about ten passes over the data,
//! seconds for 2,000 months of 11,000 ocean cells); the N x N solve is Gaussian elimination
//! with partial pivoting.

use rayon::prelude::*;

use super::linalg::{jacobi, mat_vec, mul_a, mul_at, orthonormalise, solve, truncate, uniform};
use crate::dataset::Normaliser;
use crate::time::{Frequency, Period};

/// Candidate numbers of EOFs.
const CANDIDATES: [usize; 10] = [1, 2, 3, 5, 8, 12, 16, 20, 25, 30];
/// Gram matrices up to this size are diagonalised exactly.
const EXACT_MAX: usize = 300;
/// N when the training period is too short to hold a validation part.
const FALLBACK_MODES: usize = 5;

/// A fitted LIM.
#[derive(Debug, Clone)]
pub struct Lim {
    /// Grid cells of the domain.
    cells: Vec<usize>,
    /// sqrt(cos latitude) of each domain cell.
    w: Vec<f64>,
    /// `[domain cell][mode]` EOFs (orthonormal in the weighted space).
    eofs: Vec<f64>,
    /// `[mode][mode]` propagator.
    g: Vec<f64>,
    modes: usize,
    ncells: usize,
}

impl Lim {
    /// Fits on the training values `train` (`[t][cell]`, `n` cells, first step `start`) with
    /// cell area weights `area` (cos latitude), choosing N for leads `1..=horizon`. `None`
    /// when no cell is valid at every step or the steps are too few.
    pub fn fit(
        train: &[f32],
        n: usize,
        start: Period,
        freq: Frequency,
        area: &[f64],
        horizon: usize,
    ) -> Option<Self> {
        let nt = train.len() / n.max(1);
        let cells: Vec<usize> = (0..n)
            .filter(|&c| area[c] > 0.0 && (0..nt).all(|t| train[t * n + c].is_finite()))
            .collect();
        if cells.is_empty() || nt < 4 {
            return None;
        }
        let w: Vec<f64> = cells.iter().map(|&c| area[c].sqrt()).collect();
        let per_year = match freq {
            Frequency::Monthly => 12,
            Frequency::Annual => 1,
        };
        let val = nt.div_ceil(5).max(2 * per_year);
        let chosen = (nt >= val + (2 * per_year).max(4))
            .then(|| choose_modes(train, n, start, freq, &cells, &w, nt - val, horizon))
            .flatten();
        let modes = match chosen {
            Some((m, scores)) => {
                tracing::info!(
                    modes = m,
                    validation_steps = val,
                    cells = cells.len(),
                    ?scores,
                    "LIM: EOFs chosen by validation on the last training steps"
                );
                m
            }
            None => {
                let m = FALLBACK_MODES.min(cap(cells.len(), nt));
                tracing::info!(
                    modes = m,
                    "LIM: training period too short to validate N; using the fallback"
                );
                m
            }
        };
        let clim = Normaliser::fit(train, n, start, freq);
        let a = anomalies(train, n, start, &clim, &cells, &w);
        let nv = cells.len();
        let (eofs, k) = leading_eofs(&a, nt, nv, modes.max(1));
        // Fewer modes when the data hold fewer, or when C(0) is singular.
        (1..=k).rev().find_map(|m| {
            let eofs = truncate(&eofs, nv, k, m);
            let pcs = mul_a(&a, nt, nv, &eofs, m);
            let g = propagator(&pcs, nt, m, m)?;
            Some(Self {
                cells: cells.clone(),
                w: w.clone(),
                eofs,
                g,
                modes: m,
                ncells: n,
            })
        })
    }

    /// Number of EOFs.
    pub fn modes(&self) -> usize {
        self.modes
    }

    /// The anomaly forecast for lead `lead` from the anomaly map `anom` (`[cell]`, against the
    /// training climatology) of the step before the start: NaN outside the domain. A
    /// non-finite anomaly inside the domain counts as 0 in the projection.
    pub fn forecast(&self, anom: &[f32], lead: usize) -> Vec<f32> {
        let m = self.modes;
        let mut x = vec![0.0f64; m];
        for (i, &c) in self.cells.iter().enumerate() {
            let a = anom[c] as f64;
            if a.is_finite() {
                for (k, xk) in x.iter_mut().enumerate() {
                    *xk += self.eofs[i * m + k] * self.w[i] * a;
                }
            }
        }
        for _ in 0..lead {
            x = mat_vec(&self.g, &x, m);
        }
        let mut out = vec![f32::NAN; self.ncells];
        for (i, &c) in self.cells.iter().enumerate() {
            let e = &self.eofs[i * m..(i + 1) * m];
            let v: f64 = e.iter().zip(&x).map(|(a, b)| a * b).sum();
            out[c] = (v / self.w[i]) as f32;
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn propagator_matrix(&self) -> &[f64] {
        &self.g
    }
}

/// The largest N the data allow: at most 30, the cells, and the steps less two.
fn cap(cells: usize, steps: usize) -> usize {
    30.min(cells).min(steps.saturating_sub(2))
}

/// The validation of module docs: `(N, [(candidate, validation MSE)])`.
#[allow(clippy::too_many_arguments)]
fn choose_modes(
    train: &[f32],
    n: usize,
    start: Period,
    freq: Frequency,
    cells: &[usize],
    w: &[f64],
    fit_len: usize,
    horizon: usize,
) -> Option<(usize, Vec<(usize, f64)>)> {
    let nt = train.len() / n;
    let nv = cells.len();
    let clim = Normaliser::fit(&train[..fit_len * n], n, start, freq);
    let a = anomalies(train, n, start, &clim, cells, w);
    let kmax = CANDIDATES
        .iter()
        .copied()
        .filter(|&c| c <= cap(nv, fit_len))
        .max()?;
    let (eofs, k) = leading_eofs(&a[..fit_len * nv], fit_len, nv, kmax);
    let pcs = mul_a(&a, nt, nv, &eofs, k);
    let norms: Vec<f64> = (0..nt)
        .map(|t| {
            a[t * nv..(t + 1) * nv]
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum()
        })
        .collect();
    let mut scores = Vec::new();
    for m in CANDIDATES.iter().copied().filter(|&m| m <= k) {
        let Some(g) = propagator(&pcs[..fit_len * k], fit_len, k, m) else {
            continue;
        };
        let (mut err, mut count) = (0.0f64, 0usize);
        for s in fit_len..nt {
            let mut z = pcs[(s - 1) * k..(s - 1) * k + m].to_vec();
            for lead in 1..=horizon {
                let t = s + lead - 1;
                if t >= nt {
                    break;
                }
                z = mat_vec(&g, &z, m);
                let p = &pcs[t * k..t * k + m];
                let zp: f64 = z.iter().zip(p).map(|(a, b)| a * b).sum();
                let zz: f64 = z.iter().map(|a| a * a).sum();
                err += norms[t] - 2.0 * zp + zz;
                count += 1;
            }
        }
        if count > 0 {
            scores.push((m, err / count as f64 / nv as f64));
        }
    }
    let best = scores
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|s| s.0)?;
    Some((best, scores))
}

/// Weighted anomalies `[t][domain cell]` against `clim`.
fn anomalies(
    train: &[f32],
    n: usize,
    start: Period,
    clim: &Normaliser,
    cells: &[usize],
    w: &[f64],
) -> Vec<f32> {
    let nt = train.len() / n;
    let mut a = Vec::with_capacity(nt * cells.len());
    for t in 0..nt {
        let p = Period(start.0 + t as i64);
        for (i, &c) in cells.iter().enumerate() {
            a.push(((train[t * n + c] - clim.climatology(p, c)) as f64 * w[i]) as f32);
        }
    }
    a
}

/// G = C(1) C(0)^-1 of the first `m` of `k` PCs (`[t][k]`, `nt` consecutive steps), both
/// covariances over the pairs (t, t+1). `None` when C(0) is singular.
fn propagator(pcs: &[f64], nt: usize, k: usize, m: usize) -> Option<Vec<f64>> {
    let (mut c0, mut b) = (vec![0.0f64; m * m], vec![0.0f64; m * m]);
    for t in 0..nt.saturating_sub(1) {
        let (x, y) = (&pcs[t * k..t * k + m], &pcs[(t + 1) * k..(t + 1) * k + m]);
        for i in 0..m {
            for j in 0..m {
                c0[i * m + j] += x[i] * x[j];
                b[i * m + j] += x[i] * y[j];
            }
        }
    }
    // C(0) G^T = C(1)^T, and B = C(1)^T.
    let gt = solve(c0, b, m, m)?;
    Some((0..m * m).map(|k| gt[(k % m) * m + k / m]).collect())
}

/// The leading (at most) `k` EOFs of `a` (`[t][v]`, `nt x nv`) as `[v][mode]`, orthonormal,
/// with the number kept (modes with a negligible variance are dropped).
fn leading_eofs(a: &[f32], nt: usize, nv: usize, k: usize) -> (Vec<f64>, usize) {
    let (vals, vecs, l) = if nt.min(nv) <= EXACT_MAX {
        exact_eofs(a, nt, nv)
    } else {
        subspace_eofs(a, nt, nv, k)
    };
    let top = vals.first().copied().unwrap_or(0.0);
    let keep = vals
        .iter()
        .take(k)
        .take_while(|&&v| top > 0.0 && v > 1e-10 * top)
        .count();
    (truncate(&vecs, nv, l, keep), keep)
}

/// Exact EOFs from the Gram matrix of the smaller dimension: `(variances, [v][l] EOFs, l)`,
/// sorted by decreasing variance.
fn exact_eofs(a: &[f32], nt: usize, nv: usize) -> (Vec<f64>, Vec<f64>, usize) {
    if nv <= nt {
        // A^T A (nv x nv): its eigenvectors are the EOFs.
        let mut s = vec![0.0f64; nv * nv];
        for t in 0..nt {
            let row = &a[t * nv..(t + 1) * nv];
            for i in 0..nv {
                let x = row[i] as f64;
                for j in i..nv {
                    s[i * nv + j] += x * row[j] as f64;
                }
            }
        }
        for i in 0..nv {
            for j in 0..i {
                s[i * nv + j] = s[j * nv + i];
            }
        }
        let (vals, vecs) = jacobi(s, nv);
        (vals, vecs, nv)
    } else {
        // A A^T (nt x nt): EOF_k = A^T u_k / sqrt(lambda_k).
        let rows: Vec<Vec<f64>> = (0..nt)
            .map(|t| a[t * nv..(t + 1) * nv].iter().map(|&v| v as f64).collect())
            .collect();
        let mut s = vec![0.0f64; nt * nt];
        let upper: Vec<Vec<f64>> = (0..nt)
            .into_par_iter()
            .map(|i| {
                (i..nt)
                    .map(|j| rows[i].iter().zip(&rows[j]).map(|(x, y)| x * y).sum())
                    .collect()
            })
            .collect();
        for (i, u) in upper.iter().enumerate() {
            for (d, &v) in u.iter().enumerate() {
                s[i * nt + i + d] = v;
                s[(i + d) * nt + i] = v;
            }
        }
        let (vals, u) = jacobi(s, nt);
        let mut e = mul_at(a, nt, nv, &u, nt);
        scale_columns(&mut e, nv, nt, &vals);
        (vals, e, nt)
    }
}

/// EOFs by subspace iteration (randomised range finder with power iterations).
fn subspace_eofs(a: &[f32], nt: usize, nv: usize, k: usize) -> (Vec<f64>, Vec<f64>, usize) {
    let l = (k + 10).min(nt).min(nv);
    let mut rng = 0x5eed_1a4du64;
    let omega: Vec<f64> = (0..nv * l).map(|_| uniform(&mut rng)).collect();
    let mut y = mul_a(a, nt, nv, &omega, l);
    orthonormalise(&mut y, nt, l);
    for _ in 0..4 {
        let mut z = mul_at(a, nt, nv, &y, l);
        orthonormalise(&mut z, nv, l);
        y = mul_a(a, nt, nv, &z, l);
        orthonormalise(&mut y, nt, l);
    }
    // B^T = A^T Q (nv x l); B B^T = Z^T Z; EOFs = B^T U / sigma.
    let z = mul_at(a, nt, nv, &y, l);
    let mut s = vec![0.0f64; l * l];
    for r in 0..nv {
        let row = &z[r * l..(r + 1) * l];
        for i in 0..l {
            for j in 0..l {
                s[i * l + j] += row[i] * row[j];
            }
        }
    }
    let (vals, u) = jacobi(s, l);
    let mut e = vec![0.0f64; nv * l];
    for r in 0..nv {
        for j in 0..l {
            e[r * l + j] = (0..l).map(|i| z[r * l + i] * u[i * l + j]).sum();
        }
    }
    scale_columns(&mut e, nv, l, &vals);
    (vals, e, l)
}

/// Divides column j of a `[rows][l]` matrix by sqrt(vals[j]) (zero for a null value).
fn scale_columns(e: &mut [f64], rows: usize, l: usize, vals: &[f64]) {
    for r in 0..rows {
        for j in 0..l {
            let s = vals[j].max(0.0).sqrt();
            e[r * l + j] = if s > 0.0 { e[r * l + j] / s } else { 0.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gaussian-ish noise from the SplitMix stream (sum of uniforms).
    fn noise(state: &mut u64) -> f64 {
        (0..4).map(|_| uniform(state)).sum::<f64>() * 0.5
    }

    /// A 3-mode linear system x(t+1) = G x(t) + noise on orthonormal patterns over 40 cells,
    /// plus small independent noise per cell: the LIM recovers G's forecasts.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn lim_recovers_a_known_propagator() {
        let g = [0.8, 0.3, 0.0, -0.25, 0.75, 0.1, 0.0, 0.05, 0.5];
        let (nv, nt) = (40usize, 8000usize);
        // Orthonormal patterns: sines of different wave numbers.
        let pat: Vec<Vec<f64>> = (1..=3)
            .map(|k| {
                let v: Vec<f64> = (0..nv)
                    .map(|i| (std::f64::consts::PI * k as f64 * (i as f64 + 0.5) / nv as f64).sin())
                    .collect();
                let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.into_iter().map(|x| x / n).collect()
            })
            .collect();
        let mut rng = 7u64;
        let mut x = [0.0f64; 3];
        let mut train = Vec::with_capacity(nt * nv);
        let mut xs = Vec::new();
        for _ in 0..nt {
            let nx: Vec<f64> = (0..3)
                .map(|i| (0..3).map(|j| g[i * 3 + j] * x[j]).sum::<f64>() + noise(&mut rng))
                .collect();
            x = [nx[0], nx[1], nx[2]];
            xs.extend_from_slice(&x);
            for i in 0..nv {
                let v: f64 = (0..3).map(|k| x[k] * pat[k][i]).sum();
                train.push((20.0 + v + 0.02 * noise(&mut rng)) as f32);
            }
        }
        let lim = Lim::fit(
            &train,
            nv,
            Period(1000),
            Frequency::Annual,
            &vec![1.0; nv],
            4,
        )
        .expect("fitted");
        assert!((3..=5).contains(&lim.modes()), "modes {}", lim.modes());
        // The least-squares propagator of the true mode amplitudes: what the LIM must match
        // up to the truncation and the cell noise; it differs from G by sampling error only.
        let gls = propagator(&xs, nt, 3, 3).unwrap();
        // Forecast a pure pattern state: G^L x0 on the patterns.
        let x0 = [1.0, -0.5, 0.8];
        let anom: Vec<f32> = (0..nv)
            .map(|i| (0..3).map(|k| x0[k] * pat[k][i]).sum::<f64>() as f32)
            .collect();
        let on_grid = |z: &[f64]| -> Vec<f64> {
            (0..nv)
                .map(|i| (0..3).map(|k| z[k] * pat[k][i]).sum())
                .collect()
        };
        let dist = |a: &[f32], b: &[f64]| -> f64 {
            a.iter()
                .zip(b)
                .map(|(x, y)| (*x as f64 - y).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (mut z, mut zl) = (x0.to_vec(), x0.to_vec());
        for lead in 1..=4 {
            z = mat_vec(&g, &z, 3);
            zl = mat_vec(&gls, &zl, 3);
            let got = lim.forecast(&anom, lead);
            // |x0| = 1.37: within 1% of the least-squares forecast, within 0.06 (sampling
            // error of 8,000 steps) of the true one.
            let (to_ls, to_true) = (dist(&got, &on_grid(&zl)), dist(&got, &on_grid(&z)));
            assert!(to_ls < 0.014, "lead {lead}: {to_ls} from least squares");
            assert!(to_true < 0.06, "lead {lead}: {to_true} from the truth");
        }
        // G's trace is basis-free: with three modes it is the trace of the true G.
        if lim.modes() == 3 {
            let h = lim.propagator_matrix();
            let tr = h[0] + h[4] + h[8];
            assert!((tr - (0.8 + 0.75 + 0.5)).abs() < 0.05, "trace {tr}");
        }
    }

    /// Subspace iteration finds the same leading variances and patterns as the exact Gram
    /// route on a matrix with a decaying spectrum.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn subspace_iteration_matches_the_exact_eofs() {
        let (nt, nv) = (320usize, 310usize);
        let mut rng = 11u64;
        let modes: Vec<Vec<f64>> = (0..8)
            .map(|_| (0..nv).map(|_| noise(&mut rng)).collect())
            .collect();
        let mut a = Vec::with_capacity(nt * nv);
        for _ in 0..nt {
            let amp: Vec<f64> = (0..8).map(|k| noise(&mut rng) * 0.6f64.powi(k)).collect();
            for i in 0..nv {
                let v: f64 =
                    (0..8).map(|k| amp[k] * modes[k][i]).sum::<f64>() + 0.01 * noise(&mut rng);
                a.push(v as f32);
            }
        }
        let (ve, ee, le) = exact_eofs(&a, nt, nv);
        let (vs, es, ls) = subspace_eofs(&a, nt, nv, 5);
        for k in 0..5 {
            assert!(
                (ve[k] - vs[k]).abs() < 1e-3 * ve[0],
                "variance {k}: {} {}",
                ve[k],
                vs[k]
            );
            let dot: f64 = (0..nv).map(|i| ee[i * le + k] * es[i * ls + k]).sum();
            assert!(dot.abs() > 0.999, "pattern {k}: {dot}");
        }
    }
}
