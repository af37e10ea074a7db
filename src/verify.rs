//! Verification: how the forecast compares with what was observed, and with the references
//! every SST forecast must beat.
//!
//! A forecast number means little alone (the original project never compared its model with
//! anything, and computed its "test" loss on training windows). Whenever the input also holds
//! observations of the forecast period, sstcast scores, for each lead and for the mean over
//! the leads, globally and per region:
//!
//! - the **model**;
//! - **climatology**: each cell's mean for the target calendar month over the training steps;
//! - **persistence**: the last observed anomaly (the step before the origin) added to the
//!   climatology of the target month, and plain last-value persistence as a second column;
//! - **damped persistence**: per cell and lead L, the last anomaly times the regression
//!   coefficient of anomaly(t+L) on anomaly(t) over the training steps (clipped to 0..1), added
//!   to the climatology: the strongest simple statistical reference.
//!
//! Every reference is computed from the training steps only, like the model.
//!
//! Metrics are area-weighted with cos(latitude) over the cells where the model forecast and
//! the observation are both valid: RMSE, MAE, bias (forecast minus observed) and the anomaly
//! correlation coefficient (ACC: the centred, weighted correlation between forecast and
//! observed anomalies against the training climatology; undefined for climatology itself).

use std::fmt::Write as _;

use crate::dataset::Normaliser;
use crate::forecast::Forecast;
use crate::grid::Cube;
use crate::time::Period;

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
}

impl Method {
    /// All methods, model first.
    pub const ALL: [Method; 5] = [
        Method::Model,
        Method::Climatology,
        Method::Persistence,
        Method::PersistenceRaw,
        Method::DampedPersistence,
    ];

    /// The references the model is judged against ("best reference").
    pub const REFERENCES: [Method; 3] = [
        Method::Climatology,
        Method::Persistence,
        Method::DampedPersistence,
    ];
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

/// The reference forecasts, fitted on the training steps of a cube.
#[derive(Debug, Clone)]
pub struct References {
    clim: Normaliser,
    /// Last training step's period and values.
    last_period: Period,
    last: Vec<f32>,
    /// `[lead][cell]` damped-persistence coefficients.
    damping: Vec<f32>,
    ncells: usize,
}

impl References {
    /// Fits climatology, persistence and damped-persistence coefficients on the first `steps`
    /// steps of `cube`, for leads `1..=horizon`.
    pub fn fit(cube: &Cube, steps: usize, horizon: usize) -> Self {
        let n = cube.grid.ncells();
        let mut train = Vec::with_capacity(steps * n);
        for t in 0..steps {
            train.extend_from_slice(cube.step(t));
        }
        let clim = Normaliser::fit(&train, n, cube.start, cube.freq);
        // Anomalies of the training steps.
        let anom: Vec<f32> = train
            .iter()
            .enumerate()
            .map(|(k, &v)| v - clim.climatology(cube.period(k / n), k % n))
            .collect();
        let damping = crate::dataset::damping(&anom, n, horizon);
        Self {
            clim,
            last_period: cube.period(steps - 1),
            last: cube.step(steps - 1).to_vec(),
            damping,
            ncells: n,
        }
    }

    /// Climatology map of `p`.
    pub fn climatology(&self, p: Period) -> Vec<f32> {
        (0..self.ncells)
            .map(|c| self.clim.climatology(p, c))
            .collect()
    }

    /// The map `method` forecasts for lead `lead` (1-based) at period `p`. `None` for the model.
    pub fn forecast(&self, method: Method, lead: usize, p: Period) -> Option<Vec<f32>> {
        let n = self.ncells;
        let last_anom = |c: usize| self.last[c] - self.clim.climatology(self.last_period, c);
        let clim = |c: usize| self.clim.climatology(p, c);
        let map: Vec<f32> = match method {
            Method::Model => return None,
            Method::Climatology => (0..n).map(clim).collect(),
            Method::Persistence => (0..n).map(|c| clim(c) + last_anom(c)).collect(),
            Method::PersistenceRaw => self.last.clone(),
            Method::DampedPersistence => (0..n)
                .map(|c| {
                    let a = self.damping.get((lead - 1) * n + c).copied().unwrap_or(0.0);
                    clim(c) + a * last_anom(c)
                })
                .collect(),
        };
        Some(map)
    }
}

/// One row of `skill_<Y>.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    /// `global` or a region id.
    pub region: String,
    /// `1`..`12`, or `mean` for the mean over all leads (the annual mean in monthly mode).
    pub lead: String,
    /// Target period (`2018-03`, `2018`, or `2018-01..2018-12`).
    pub period: String,
    /// Method.
    pub method: Method,
    /// Scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// The verification of one forecast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SkillReport {
    /// Target year.
    pub year: i64,
    /// Training period label.
    pub training: String,
    /// Number of leads with observations.
    pub leads: usize,
    /// Every record: region x lead x method.
    pub records: Vec<Record>,
    /// `(region, lead, method)` -> index in `records` (the tables look up every region at
    /// every lead; a linear scan made printing the table of 535 regions take seconds).
    #[serde(skip)]
    index: std::collections::HashMap<(String, String, Method), usize>,
}

/// Verifies `fc` against the observations in `cube`, whose first `steps` steps are the
/// training period. `None` when no lead has observations.
pub fn evaluate(cube: &Cube, steps: usize, fc: &Forecast, year: i64) -> Option<SkillReport> {
    let n = cube.grid.ncells();
    let weights = cube.grid.area_weights();
    let refs = References::fit(cube, steps, fc.horizon);
    // Leads with observations: a contiguous run from lead 1.
    let leads = (0..fc.horizon)
        .take_while(|&k| cube.index_of(Period(fc.first.0 + k as i64)).is_some())
        .count();
    if leads == 0 {
        return None;
    }
    let global: Vec<usize> = (0..n).collect();
    let mut groups: Vec<(String, &[usize])> = vec![("global".to_string(), &global)];
    groups.extend(
        fc.regions
            .iter()
            .map(|r| (r.id.clone(), r.cells.as_slice())),
    );

    let mut records = Vec::new();
    // Per lead, then the mean over the verified leads (when all leads are verified).
    let mut sums: Vec<Vec<f64>> = vec![vec![0.0; n]; Method::ALL.len()];
    let (mut obs_sum, mut clim_sum) = (vec![0.0f64; n], vec![0.0f64; n]);
    for k in 0..leads {
        let p = Period(fc.first.0 + k as i64);
        let obs = cube.step(cube.index_of(p).expect("verified lead"));
        let clim = refs.climatology(p);
        let model = fc.lead(k);
        let maps: Vec<Vec<f32>> = Method::ALL
            .iter()
            .map(|&m| refs.forecast(m, k + 1, p).unwrap_or_else(|| model.to_vec()))
            .collect();
        for (mi, map) in maps.iter().enumerate() {
            for c in 0..n {
                sums[mi][c] += map[c] as f64;
            }
        }
        for c in 0..n {
            obs_sum[c] += obs[c] as f64;
            clim_sum[c] += clim[c] as f64;
        }
        push_records(
            &mut records,
            &groups,
            &(k + 1).to_string(),
            &p.label(cube.freq),
            &maps,
            model,
            obs,
            &clim,
            &weights,
        );
    }
    if leads == fc.horizon && leads > 1 {
        let mean = |v: &[f64]| {
            v.iter()
                .map(|&x| (x / leads as f64) as f32)
                .collect::<Vec<_>>()
        };
        let maps: Vec<Vec<f32>> = sums.iter().map(|s| mean(s)).collect();
        let label = format!(
            "{}..{}",
            fc.first.label(cube.freq),
            Period(fc.first.0 + leads as i64 - 1).label(cube.freq)
        );
        push_records(
            &mut records,
            &groups,
            "mean",
            &label,
            &maps,
            &maps[0],
            &mean(&obs_sum),
            &mean(&clim_sum),
            &weights,
        );
    }
    Some(SkillReport {
        year,
        training: format!(
            "{}..{}",
            cube.start.label(cube.freq),
            cube.period(steps - 1).label(cube.freq)
        ),
        leads,
        index: records
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.region.clone(), r.lead.clone(), r.method), i))
            .collect(),
        records,
    })
}

#[allow(clippy::too_many_arguments)]
fn push_records(
    records: &mut Vec<Record>,
    groups: &[(String, &[usize])],
    lead: &str,
    period: &str,
    maps: &[Vec<f32>],
    model: &[f32],
    obs: &[f32],
    clim: &[f32],
    weights: &[f64],
) {
    for (name, cells) in groups {
        // Only cells the model forecast: a like-for-like comparison.
        let cells: Vec<usize> = cells
            .iter()
            .copied()
            .filter(|&c| model[c].is_finite())
            .collect();
        for (mi, &method) in Method::ALL.iter().enumerate() {
            if let Some(scores) = score(&maps[mi], obs, clim, weights, &cells) {
                records.push(Record {
                    region: name.clone(),
                    lead: lead.to_string(),
                    period: period.to_string(),
                    method,
                    scores,
                });
            }
        }
    }
}

impl SkillReport {
    /// The record of `region`, `lead`, `method`.
    pub fn get(&self, region: &str, lead: &str, method: Method) -> Option<&Scores> {
        self.index
            .get(&(region.to_string(), lead.to_string(), method))
            .map(|&i| &self.records[i].scores)
    }

    /// Lead labels in order (`1`.., then `mean` if present).
    pub fn lead_labels(&self) -> Vec<String> {
        let mut v: Vec<String> = (1..=self.leads).map(|k| k.to_string()).collect();
        if self.records.iter().any(|r| r.lead == "mean") {
            v.push("mean".into());
        }
        v
    }

    /// Region ids (without `global`).
    pub fn regions(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let mut v: Vec<&str> = Vec::new();
        for r in &self.records {
            if r.region != "global" && seen.insert(r.region.as_str()) {
                v.push(&r.region);
            }
        }
        v
    }

    /// Best reference RMSE of a region at a lead.
    pub fn best_reference(&self, region: &str, lead: &str) -> Option<(Method, f64)> {
        Method::REFERENCES
            .iter()
            .filter_map(|&m| self.get(region, lead, m).map(|s| (m, s.rmse)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Share of regions where the model's RMSE is below the best reference's at `lead`.
    pub fn share_beating_best(&self, lead: &str) -> Option<f64> {
        let regions = self.regions();
        let mut wins = 0usize;
        let mut total = 0usize;
        for r in regions {
            if let (Some(m), Some((_, best))) = (
                self.get(r, lead, Method::Model),
                self.best_reference(r, lead),
            ) {
                total += 1;
                if m.rmse < best {
                    wins += 1;
                }
            }
        }
        (total > 0).then(|| wins as f64 / total as f64)
    }

    /// Mean over leads 1..=leads of a global metric.
    pub fn mean_over_leads(
        &self,
        method: Method,
        f: impl Fn(&Scores) -> Option<f64>,
    ) -> Option<f64> {
        let v: Vec<f64> = (1..=self.leads)
            .filter_map(|k| self.get("global", &k.to_string(), method).and_then(&f))
            .collect();
        (v.len() == self.leads).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// The global table as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let cells = self
            .get("global", "1", Method::Model)
            .map_or(0, |x| x.cells);
        let _ = writeln!(
            s,
            "Forecast for {}: trained on {}; area-weighted (cos latitude) over {} forecast cells. \
             RMSE in degC (lower is better), ACC = anomaly correlation (higher is better). \
             References use training data only. \"beats best\" = share of regions where the \
             model's RMSE is below the best of climatology, persistence and damped persistence.\n",
            self.year, self.training, cells
        );
        s.push_str("| lead | period | RMSE model | RMSE clim | RMSE pers | RMSE damped | RMSE last value | ACC model | ACC pers | ACC damped | beats best |\n");
        s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
        let row = |s: &mut String,
                   lead: &str,
                   period: &str,
                   rmse: [Option<f64>; 5],
                   acc: [Option<f64>; 3],
                   share: Option<f64>| {
            let _ = writeln!(
                s,
                "| {lead} | {period} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f(rmse[0]),
                f(rmse[1]),
                f(rmse[2]),
                f(rmse[3]),
                f(rmse[4]),
                f(acc[0]),
                f(acc[1]),
                f(acc[2]),
                share.map_or("-".into(), |v| format!("{:.0}%", 100.0 * v))
            );
        };
        let order = [
            Method::Model,
            Method::Climatology,
            Method::Persistence,
            Method::DampedPersistence,
            Method::PersistenceRaw,
        ];
        for lead in self.lead_labels() {
            let period = self
                .records
                .iter()
                .find(|r| r.lead == lead)
                .map_or(String::new(), |r| r.period.clone());
            let g = |m: Method| self.get("global", &lead, m);
            let rmse = order.map(|m| g(m).map(|x| x.rmse));
            let acc = [
                Method::Model,
                Method::Persistence,
                Method::DampedPersistence,
            ]
            .map(|m| g(m).and_then(|x| x.acc));
            let label = if lead == "mean" {
                "mean field"
            } else {
                lead.as_str()
            };
            row(
                &mut s,
                label,
                &period,
                rmse,
                acc,
                self.share_beating_best(&lead),
            );
        }
        // Average of the per-lead scores.
        let rmse = order.map(|m| self.mean_over_leads(m, |x| Some(x.rmse)));
        let acc = [
            Method::Model,
            Method::Persistence,
            Method::DampedPersistence,
        ]
        .map(|m| self.mean_over_leads(m, |x| x.acc));
        let shares: Vec<f64> = (1..=self.leads)
            .filter_map(|k| self.share_beating_best(&k.to_string()))
            .collect();
        let share = (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64);
        row(&mut s, "avg 1..", "", rmse, acc, share);
        s
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serialisable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tests::cube;

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

    /// References see only the training steps: changing anything from the origin on changes
    /// no reference forecast.
    #[test]
    fn references_use_training_data_only() {
        let f = |t: usize, c: usize| {
            10.0 + ((t % 12) as f32) + 0.1 * c as f32 + 0.05 * ((t * 7 + c) % 5) as f32
        };
        let a = cube(2, 2, Period::month(2010, 1), 60, f);
        let b = cube(2, 2, Period::month(2010, 1), 60, |t, c| {
            if t >= 48 {
                99.0
            } else {
                f(t, c)
            }
        });
        let (ra, rb) = (References::fit(&a, 48, 12), References::fit(&b, 48, 12));
        for m in Method::REFERENCES
            .iter()
            .chain([Method::PersistenceRaw].iter())
        {
            for lead in 1..=12 {
                let p = Period::month(2014, lead as u32);
                assert_eq!(ra.forecast(*m, lead, p), rb.forecast(*m, lead, p));
            }
        }
        // Climatology of March = mean of the four training Marches.
        let marches: f32 = (0..4).map(|y| f(y * 12 + 2, 1)).sum::<f32>() / 4.0;
        assert!((ra.climatology(Period::month(2014, 3))[1] - marches).abs() < 1e-5);
    }

    #[test]
    fn damped_persistence_by_hand() {
        // One cell, no seasonal cycle in the anomalies' scale: anomalies alternate +1, -1 ...
        // plus climatology. lag-1 regression = -1 -> clipped to 0; lag-2 = +1.
        let c = cube(1, 1, Period::month(2000, 1), 48, |t, _| {
            if t % 2 == 0 {
                1.0
            } else {
                -1.0
            }
        });
        // Monthly climatology is +1 for even months, -1 for odd: anomalies are all 0. Use a
        // 13-month pattern instead so anomalies survive the monthly climatology.
        let _ = c;
        let c = cube(1, 1, Period::month(2000, 1), 52, |t, _| {
            ((t % 13) as f32 * 0.7).sin()
        });
        let r = References::fit(&c, 52, 2);
        for lead in 1..=2 {
            let a = r.damping[lead - 1];
            assert!((0.0..=1.0).contains(&a), "lead {lead}: {a}");
        }
        let last_anom = c.step(51)[0] - r.climatology(c.period(51))[0];
        let p = Period::month(2004, 5);
        let d = r.forecast(Method::DampedPersistence, 1, p).unwrap()[0];
        assert!((d - (r.climatology(p)[0] + r.damping[0] * last_anom)).abs() < 1e-6);
    }
}
