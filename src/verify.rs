//! Verification: how the forecast compares with what was observed, and with the two
//! references every SST forecast must beat.
//!
//! A forecast number means little alone (the original project never compared its model
//! with anything). Whenever the input also holds observations of the forecast period, the
//! run reports, per lead, the area-weighted (cos latitude) RMSE over the forecast cells of:
//! - the **model**;
//! - **climatology**: each cell's mean for that calendar month over the training steps;
//! - **persistence**: the last observed anomaly (the step before the origin) added to the
//!   climatology of the target month.
//!
//! Both references use only training data (steps before the origin), like the model.

use crate::dataset::Normaliser;
use crate::forecast::Forecast;
use crate::grid::Cube;
use crate::time::Period;

/// RMSE of the model and the references at one lead.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SkillRow {
    /// Target period label (`2018-03`).
    pub period: String,
    /// Lead (1-based).
    pub lead: usize,
    /// Model RMSE, degC.
    pub model: f64,
    /// Climatology RMSE, degC.
    pub climatology: f64,
    /// Persistence RMSE, degC.
    pub persistence: f64,
    /// Cells compared.
    pub cells: usize,
}

/// Per-lead global skill.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SkillTable {
    /// One row per verifiable lead.
    pub rows: Vec<SkillRow>,
}

impl SkillTable {
    /// Mean of each column over the leads: (model, climatology, persistence).
    pub fn means(&self) -> (f64, f64, f64) {
        let n = self.rows.len().max(1) as f64;
        let s = self.rows.iter().fold((0.0, 0.0, 0.0), |a, r| {
            (a.0 + r.model, a.1 + r.climatology, a.2 + r.persistence)
        });
        (s.0 / n, s.1 / n, s.2 / n)
    }

    /// The table as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from(
            "Area-weighted RMSE (degC) over forecast cells; references from training data only.\n\n| lead | period | model | climatology | persistence | cells |\n|---:|---|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            s.push_str(&format!(
                "| {} | {} | {:.3} | {:.3} | {:.3} | {} |\n",
                r.lead, r.period, r.model, r.climatology, r.persistence, r.cells
            ));
        }
        let (m, c, p) = self.means();
        s.push_str(&format!("| mean | | {m:.3} | {c:.3} | {p:.3} | |\n"));
        s
    }
}

/// Area-weighted RMSE of `pred` against `obs` over cells where both are finite.
pub fn weighted_rmse(pred: &[f32], obs: &[f32], weights: &[f64]) -> Option<(f64, usize)> {
    let (mut se, mut w, mut n) = (0.0f64, 0.0f64, 0usize);
    for ((&p, &o), &wt) in pred.iter().zip(obs).zip(weights) {
        if p.is_finite() && o.is_finite() {
            let d = (p - o) as f64;
            se += wt * d * d;
            w += wt;
            n += 1;
        }
    }
    (w > 0.0).then(|| ((se / w).sqrt(), n))
}

/// Verifies `fc` against the observations in `cube` (whose first `steps` steps are the
/// training period). `None` when no lead has observations.
pub fn evaluate(cube: &Cube, steps: usize, fc: &Forecast) -> Option<SkillTable> {
    let n = cube.grid.ncells();
    let weights = cube.grid.area_weights();
    // Per-cell climatology over the training steps, as a one-channel-per-cell normaliser.
    let mut train = Vec::with_capacity(steps * n);
    for t in 0..steps {
        train.extend_from_slice(cube.step(t));
    }
    let norm = Normaliser::fit(&train, n, cube.start, cube.freq);
    let last_t = steps - 1;
    let last_p = cube.period(last_t);
    let last = cube.step(last_t);
    let mut rows = Vec::new();
    for lead in 0..fc.horizon {
        let p = Period(fc.first.0 + lead as i64);
        let Some(t) = cube.index_of(p) else { break };
        let obs = cube.step(t);
        let model = fc.lead(lead);
        // References only where the model forecast, for a like-for-like comparison.
        let clim: Vec<f32> = (0..n)
            .map(|c| {
                if model[c].is_finite() {
                    norm.climatology(p, c)
                } else {
                    f32::NAN
                }
            })
            .collect();
        let pers: Vec<f32> = (0..n)
            .map(|c| {
                if model[c].is_finite() {
                    last[c] - norm.climatology(last_p, c) + norm.climatology(p, c)
                } else {
                    f32::NAN
                }
            })
            .collect();
        let (Some((m, cells)), Some((c, _)), Some((pe, _))) = (
            weighted_rmse(model, obs, &weights),
            weighted_rmse(&clim, obs, &weights),
            weighted_rmse(&pers, obs, &weights),
        ) else {
            break;
        };
        rows.push(SkillRow {
            period: p.label(cube.freq),
            lead: lead + 1,
            model: m,
            climatology: c,
            persistence: pe,
            cells,
        });
    }
    (!rows.is_empty()).then_some(SkillTable { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_rmse_by_hand() {
        // Errors 1 and 3 with weights 1 and 0.5; NaN cell ignored.
        let pred = [1.0f32, 3.0, f32::NAN];
        let obs = [0.0f32, 0.0, 0.0];
        let w = [1.0, 0.5, 1.0];
        let (r, n) = weighted_rmse(&pred, &obs, &w).unwrap();
        assert_eq!(n, 2);
        assert!((r - ((1.0 + 0.5 * 9.0) / 1.5f64).sqrt()).abs() < 1e-12);
        assert!(weighted_rmse(&[f32::NAN], &[1.0], &[1.0]).is_none());
    }
}
