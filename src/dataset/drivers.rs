//! Remote drivers: the leading principal components of the whole domain's anomalies, as extra
//! input channels for every region's model.
//!
//! Why: a region of 5x5 cells cannot see ENSO or the state of its basin from its own cells,
//! and a region's future depends on both (the tropical Pacific's anomalies travel and
//! build up across tiles over months; extratropical SST follows ENSO through the
//! atmospheric bridge with a lag). The leading empirical orthogonal functions (EOFs) of the
//! domain's anomalies summarise that state in a few numbers. Each region's model reads them
//! beside its own cells and, being autoregressive, forecasts them too (they are channels of
//! its series; only the cells' forecasts are kept), so it stays one seq2seq per region and
//! never reads an observed value from the forecast period.
//!
//! Honesty: the EOFs, the climatology the anomalies are taken about and the scale of each
//! component are fitted on the training steps only. Later steps (a hindcast's starts after
//! the training period) are *projected* onto those fixed EOFs, which uses the observed map
//! of that step, exactly as a cell's own value at that step is used: only for forecasts
//! that start after it. A missing value enters as the climatology (anomaly 0).
//!
//! How: anomalies about each cell's calendar-month climatology (with the run's trend line,
//! if any) on the cells valid at every training step, weighted by sqrt(cos latitude) so
//! that the covariance is area-weighted; the leading modes by subspace iteration on the
//! (steps x cells) matrix, never forming the cells x cells covariance (11,000 cells on a
//! global 2-degree grid); each component scaled to unit variance over the training steps,
//! with its sign fixed so the mode's loadings sum to a positive number.

use rand::{Rng, SeedableRng};

use super::prep::ocean_mask;
use super::Normaliser;
use crate::grid::Cube;
use crate::time::Period;

/// The leading principal components of the domain's anomalies at every step of a cube.
#[derive(Debug, Clone, PartialEq)]
pub struct Drivers {
    modes: usize,
    /// `[t][mode]` for every step of the cube, unit variance over the training steps.
    series: Vec<f32>,
    /// Fraction of the training anomalies' (area-weighted) variance each mode explains.
    pub explained: Vec<f64>,
}

impl Drivers {
    /// Fits `modes` EOFs on the first `steps` steps of `cube` (anomalies about a climatology
    /// with `trend_slope` degrees per step) and projects every step of the cube onto them.
    /// Fewer modes come back when the training anomalies have fewer independent directions.
    pub fn fit(cube: &Cube, steps: usize, modes: usize, trend_slope: f64) -> Self {
        let mask = ocean_mask(cube, steps);
        let cells: Vec<usize> = (0..mask.len()).filter(|&k| mask[k]).collect();
        let n = cells.len();
        let modes = modes.min(n).min(steps);
        if modes == 0 {
            return Self {
                modes: 0,
                series: Vec::new(),
                explained: Vec::new(),
            };
        }
        let raw = cube.series(steps, &cells);
        let norm = Normaliser::fit_with_trend(&raw, n, cube.start, cube.freq, trend_slope);
        let area = cube.grid.area_weights();
        let w: Vec<f64> = cells.iter().map(|&k| area[k].max(0.0).sqrt()).collect();
        // Weighted anomalies of every step, `[t][cell]`.
        let nt = cube.len();
        let mut x = vec![0.0f64; nt * n];
        for t in 0..nt {
            let p = Period(cube.start.0 + t as i64);
            let map = cube.step(t);
            for (c, &k) in cells.iter().enumerate() {
                let v = map[k];
                if v.is_finite() {
                    x[t * n + c] = w[c] * (v - norm.climatology(p, c)) as f64;
                }
            }
        }
        let train = &x[..steps * n];
        let (eofs, explained) = leading_modes(train, steps, n, modes);
        let modes = eofs.len() / n;
        // Components of every step, then unit variance over the training steps.
        let mut series = vec![0.0f64; nt * modes];
        for t in 0..nt {
            let row = &x[t * n..(t + 1) * n];
            for m in 0..modes {
                series[t * modes + m] = dot(row, &eofs[m * n..(m + 1) * n]);
            }
        }
        for m in 0..modes {
            let ss: f64 = (0..steps).map(|t| series[t * modes + m].powi(2)).sum();
            let sd = (ss / steps as f64).sqrt();
            let scale = if sd > 0.0 { 1.0 / sd } else { 0.0 };
            for t in 0..nt {
                series[t * modes + m] *= scale;
            }
        }
        Self {
            modes,
            series: series.iter().map(|&v| v as f32).collect(),
            explained,
        }
    }

    /// Number of components.
    pub fn modes(&self) -> usize {
        self.modes
    }

    /// The components at step `t` of the cube.
    pub fn at(&self, t: usize) -> &[f32] {
        &self.series[t * self.modes..(t + 1) * self.modes]
    }

    /// `series` (`[t][ch]`, its first step at cube step `first`) with the components of each
    /// step appended: `[t][ch + modes]`. Without drivers, a copy.
    pub fn append(drivers: Option<&Self>, series: &[f32], ch: usize, first: usize) -> Vec<f32> {
        let Some(d) = drivers.filter(|d| d.modes > 0) else {
            return series.to_vec();
        };
        let mut out = Vec::with_capacity(series.len() / ch * (ch + d.modes));
        for (t, row) in series.chunks(ch).enumerate() {
            out.extend_from_slice(row);
            out.extend_from_slice(d.at(first + t));
        }
        out
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The `modes` leading right singular vectors of `x` (`[t][cell]`, `nt` x `n`), as `[mode][n]`
/// unit vectors, and the fraction of `x`'s squared norm each explains. Subspace iteration
/// with a few extra vectors and Gram-Schmidt; deterministic (fixed start). Modes that carry
/// no variance are dropped.
fn leading_modes(x: &[f64], nt: usize, n: usize, modes: usize) -> (Vec<f64>, Vec<f64>) {
    const ITERATIONS: usize = 150;
    let k = (modes + 4).min(n).min(nt);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5eed);
    let mut v: Vec<f64> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    orthonormalise(&mut v, n);
    let mut u = vec![0.0f64; k * nt];
    for _ in 0..ITERATIONS {
        // u = X v, then v = X^T u.
        for j in 0..k {
            let vj = &v[j * n..(j + 1) * n];
            for t in 0..nt {
                u[j * nt + t] = dot(&x[t * n..(t + 1) * n], vj);
            }
        }
        v.fill(0.0);
        for j in 0..k {
            let vj = &mut v[j * n..(j + 1) * n];
            for t in 0..nt {
                let a = u[j * nt + t];
                for (o, xi) in vj.iter_mut().zip(&x[t * n..(t + 1) * n]) {
                    *o += a * xi;
                }
            }
        }
        orthonormalise(&mut v, n);
    }
    // Rayleigh-Ritz would sort perfectly; the iteration's order is by variance already once
    // converged. Sort by captured variance to be safe.
    let total: f64 = x.iter().map(|v| v * v).sum();
    let mut captured: Vec<(f64, usize)> = (0..k)
        .map(|j| {
            let vj = &v[j * n..(j + 1) * n];
            let s: f64 = (0..nt)
                .map(|t| dot(&x[t * n..(t + 1) * n], vj).powi(2))
                .sum();
            (s, j)
        })
        .collect();
    captured.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut eofs = Vec::with_capacity(modes * n);
    let mut explained = Vec::with_capacity(modes);
    for &(s, j) in captured.iter().take(modes) {
        if total <= 0.0 || s <= total * 1e-9 {
            break;
        }
        let vj = &v[j * n..(j + 1) * n];
        let sign = if vj.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        eofs.extend(vj.iter().map(|&e| sign * e));
        explained.push(s / total);
    }
    (eofs, explained)
}

/// Gram-Schmidt (twice, for stability) on the rows of `v` (`[k][n]`); a row that vanishes
/// is left at zero.
fn orthonormalise(v: &mut [f64], n: usize) {
    let k = v.len() / n;
    for _ in 0..2 {
        for j in 0..k {
            for i in 0..j {
                let (head, tail) = v.split_at_mut(j * n);
                let vi = &head[i * n..(i + 1) * n];
                let vj = &mut tail[..n];
                let d = dot(vi, vj);
                for (o, a) in vj.iter_mut().zip(vi) {
                    *o -= d * a;
                }
            }
            let vj = &mut v[j * n..(j + 1) * n];
            let norm = dot(vj, vj).sqrt();
            if norm > 1e-300 {
                vj.iter_mut().for_each(|e| *e /= norm);
            } else {
                vj.fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tests::cube;

    /// Two planted patterns with known time series: the first mode's component follows the
    /// stronger one (up to the sign convention), at unit variance, and the fit uses only
    /// the training steps (poisoning later steps changes nothing before them).
    #[test]
    fn recovers_a_planted_mode_from_training_steps_only() {
        let (nlat, nlon, nt, steps) = (4, 5, 120, 96);
        let a = |t: usize| (t as f64 * 0.37).sin() * 2.0;
        let b = |t: usize| (t as f64 * 1.3).cos() * 0.5;
        let value = |t: usize, k: usize| -> f32 {
            let p1 = 1.0 + (k % 3) as f64 * 0.1; // all positive
            let p2 = if k.is_multiple_of(2) { 1.0 } else { -1.0 };
            (15.0 + a(t) * p1 + b(t) * p2) as f32
        };
        let make = |poison: bool| {
            cube(nlat, nlon, Period::month(2000, 1), nt, |t, k| {
                if poison && t >= steps {
                    99.0
                } else {
                    value(t, k)
                }
            })
        };
        let d = Drivers::fit(&make(false), steps, 2, 0.0);
        assert_eq!(d.modes(), 2);
        assert!(d.explained[0] > 0.8, "{:?}", d.explained);
        // Correlation of mode 1 with the planted series (anomalies about the monthly means).
        let pc: Vec<f64> = (0..steps).map(|t| d.at(t)[0] as f64).collect();
        let var: f64 = pc.iter().map(|v| v * v).sum::<f64>() / steps as f64;
        assert!((var - 1.0).abs() < 1e-3, "unit variance: {var}");
        let am: Vec<f64> = (0..steps).map(a).collect();
        let mean_a = am.iter().sum::<f64>() / steps as f64;
        let cov: f64 = pc
            .iter()
            .zip(&am)
            .map(|(p, q)| p * (q - mean_a))
            .sum::<f64>();
        let sa = am.iter().map(|q| (q - mean_a).powi(2)).sum::<f64>().sqrt();
        let r = cov / (sa * (steps as f64).sqrt());
        assert!(r > 0.9, "mode 1 follows the strong pattern: r = {r}");
        let poisoned = Drivers::fit(&make(true), steps, 2, 0.0);
        for t in 0..steps {
            assert_eq!(d.at(t), poisoned.at(t), "step {t}");
        }
        assert_ne!(d.at(steps), poisoned.at(steps), "later steps are projected");
    }
}
