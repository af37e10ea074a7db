//! Verification: how the forecast compares with what was observed, and with the references
//! every SST forecast must beat.
//!
//! A forecast number means little alone (the original project never compared its model with
//! anything, and computed its "test" loss on training windows). Whenever the input also holds
//! observations of the forecast period, sstcast scores, for each lead and for the mean over
//! the leads, globally and per region, the **model** against references fitted on the
//! training steps only, like the model ([`references`] has each one's definition):
//! climatology, persistence (anomaly and last value), damped persistence, seasonal damped
//! persistence and a linear inverse model ([`lim`]).
//!
//! Metrics ([`score`]) are area-weighted with cos(latitude) over the cells where the forecast
//! and the observation are both valid: RMSE, MAE, bias (forecast minus observed) and the
//! anomaly correlation coefficient (ACC: the centred, weighted correlation between forecast
//! and observed anomalies against the training climatology; undefined for climatology itself).
//!
//! One forecast is verified by [`evaluate`] ([`report`]: the `skill_<Y>` table); many forecast
//! starts (a hindcast) by [`starts::verify_starts`], which adds the ensemble's CRPS and
//! block-bootstrap intervals of the model's gain over each reference.

pub mod bootstrap;
pub mod hindcast;
pub mod index;
pub mod lim;
mod linalg;
pub mod references;
pub mod report;
pub mod starts;

pub use references::References;
pub use report::{evaluate, Record, SkillReport};

/// A forecast method being scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The sstcast model.
    Model,
    /// Training-period climatology.
    Climatology,
    /// Last anomaly + climatology.
    Persistence,
    /// Last value, unchanged.
    PersistenceRaw,
    /// Last anomaly x regression coefficient + climatology.
    DampedPersistence,
    /// Damped persistence with coefficients fitted on the start's calendar month only.
    SeasonalDampedPersistence,
    /// Linear inverse model on the leading EOFs of the training anomalies.
    Lim,
}

impl Method {
    /// All methods, model first.
    pub const ALL: [Method; 7] = [
        Method::Model,
        Method::Climatology,
        Method::Persistence,
        Method::PersistenceRaw,
        Method::DampedPersistence,
        Method::SeasonalDampedPersistence,
        Method::Lim,
    ];

    /// The order of the columns of the skill tables: the model, the references, last value.
    pub const TABLE_ORDER: [Method; 7] = [
        Method::Model,
        Method::Climatology,
        Method::Persistence,
        Method::DampedPersistence,
        Method::SeasonalDampedPersistence,
        Method::Lim,
        Method::PersistenceRaw,
    ];

    /// The references the model is judged against ("best reference").
    pub const REFERENCES: [Method; 5] = [
        Method::Climatology,
        Method::Persistence,
        Method::DampedPersistence,
        Method::SeasonalDampedPersistence,
        Method::Lim,
    ];

    /// Short column label for tables.
    pub fn short(self) -> &'static str {
        match self {
            Method::Model => "model",
            Method::Climatology => "clim",
            Method::Persistence => "pers",
            Method::PersistenceRaw => "last value",
            Method::DampedPersistence => "damped",
            Method::SeasonalDampedPersistence => "seas. damped",
            Method::Lim => "LIM",
        }
    }
}

/// Scores of one method on one set of cells.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Root mean squared error, degC.
    pub rmse: f64,
    /// Mean absolute error, degC.
    pub mae: f64,
    /// Mean error (forecast minus observed), degC.
    pub bias: f64,
    /// Anomaly correlation; `None` when a field has no anomaly variance.
    pub acc: Option<f64>,
    /// Cells scored.
    pub cells: usize,
}

/// Area-weighted scores of `pred` against `obs` on `cells`, with anomalies against `clim`.
/// `None` when no cell has both values.
pub fn score(
    pred: &[f32],
    obs: &[f32],
    clim: &[f32],
    weights: &[f64],
    cells: &[usize],
) -> Option<Scores> {
    let (mut w, mut se, mut ae, mut e) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut fa, mut oa) = (0.0f64, 0.0f64);
    let mut n = 0usize;
    let valid = |k: usize| pred[k].is_finite() && obs[k].is_finite() && clim[k].is_finite();
    for &k in cells.iter().filter(|&&k| valid(k)) {
        let wt = weights[k];
        let d = (pred[k] - obs[k]) as f64;
        w += wt;
        se += wt * d * d;
        ae += wt * d.abs();
        e += wt * d;
        fa += wt * (pred[k] - clim[k]) as f64;
        oa += wt * (obs[k] - clim[k]) as f64;
        n += 1;
    }
    if n == 0 || w <= 0.0 {
        return None;
    }
    let (fm, om) = (fa / w, oa / w);
    let (mut cov, mut vf, mut vo) = (0.0f64, 0.0f64, 0.0f64);
    for &k in cells.iter().filter(|&&k| valid(k)) {
        let wt = weights[k];
        let f = (pred[k] - clim[k]) as f64 - fm;
        let o = (obs[k] - clim[k]) as f64 - om;
        cov += wt * f * o;
        vf += wt * f * f;
        vo += wt * o * o;
    }
    let acc = (vf > 1e-12 * w && vo > 1e-12 * w).then(|| cov / (vf * vo).sqrt());
    Some(Scores {
        rmse: (se / w).sqrt(),
        mae: ae / w,
        bias: e / w,
        acc,
        cells: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand_with_nan_and_weights() {
        // Cells 0,1 valid; cell 2 NaN in the forecast; weights 1, 0.5, 1.
        let pred = [1.0f32, 3.0, f32::NAN];
        let obs = [0.0f32, 0.0, 0.0];
        let clim = [0.0f32, 0.0, 0.0];
        let w = [1.0, 0.5, 1.0];
        let s = score(&pred, &obs, &clim, &w, &[0, 1, 2]).unwrap();
        assert_eq!(s.cells, 2);
        assert!((s.rmse - ((1.0 + 0.5 * 9.0) / 1.5f64).sqrt()).abs() < 1e-12);
        assert!((s.mae - (1.0 + 0.5 * 3.0) / 1.5).abs() < 1e-12);
        assert!((s.bias - s.mae).abs() < 1e-12);
        // Observed anomalies are all zero: no variance, no ACC.
        assert_eq!(s.acc, None);
        assert!(score(&[f32::NAN], &[1.0], &[0.0], &[1.0], &[0]).is_none());
    }

    /// cos-latitude weights from the grid: a cell at 60N counts half as much as one at the
    /// equator, and a NaN observation drops its cell.
    #[test]
    fn rmse_with_cos_latitude_weights_by_hand() {
        let g = crate::grid::LatLon {
            lat: vec![60.0, 0.0],
            lon: vec![0.0, 10.0],
        };
        let w = g.area_weights();
        // Errors: 2 at (60N, 0E), 1 at (0N, 0E), NaN obs at (0N, 10E), 0 at (60N, 10E).
        let pred = [2.0f32, 0.0, 1.0, 5.0];
        let obs = [0.0f32, 0.0, 0.0, f32::NAN];
        let s = score(&pred, &obs, &[0.0; 4], &w, &[0, 1, 2, 3]).unwrap();
        let want = ((0.5 * 4.0 + 0.5 * 0.0 + 1.0 * 1.0) / 2.0f64).sqrt();
        assert!((s.rmse - want).abs() < 1e-9, "{} vs {want}", s.rmse);
        assert!((s.bias - (0.5 * 2.0 + 1.0) / 2.0).abs() < 1e-9);
        assert_eq!(s.cells, 3);
    }

    #[test]
    fn acc_by_hand() {
        // Forecast anomalies (1, -1), observed (2, -2): perfectly correlated; (2, -2) vs (-2, 2): -1.
        let clim = [10.0f32, 10.0];
        let w = [1.0, 1.0];
        let s = score(&[11.0, 9.0], &[12.0, 8.0], &clim, &w, &[0, 1]).unwrap();
        assert!((s.acc.unwrap() - 1.0).abs() < 1e-12);
        let s = score(&[12.0, 8.0], &[8.0, 12.0], &clim, &w, &[0, 1]).unwrap();
        assert!((s.acc.unwrap() + 1.0).abs() < 1e-12);
        // Weighted: three cells, the heavy one decides the sign of the mean-removed anomalies.
        let s = score(
            &[1.0, 0.0, 0.0],
            &[1.0, 0.0, 0.5],
            &[0.0; 3],
            &[2.0, 1.0, 1.0],
            &[0, 1, 2],
        )
        .unwrap();
        // f = (1,0,0) - 0.5 = (0.5,-0.5,-0.5); o = (1,0,.5) - 0.625 = (.375,-.625,-.125)
        let cov: f64 = 2.0 * 0.5 * 0.375 + 0.5 * 0.625 + 0.5 * 0.125;
        let vf: f64 = 2.0 * 0.25 + 0.25 + 0.25;
        let vo = 2.0 * 0.140625 + 0.390625 + 0.015625;
        assert!((s.acc.unwrap() - cov / (vf * vo).sqrt()).abs() < 1e-9);
    }
}
