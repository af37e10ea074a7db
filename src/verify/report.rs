//! The verification of one forecast: every region x lead x method of `skill_<Y>.json`, the
//! global tables of `skill_<Y>.md`, and the lookups the skill map draws from.

use std::fmt::Write as _;

use super::{score, Method, References, Scores};
use crate::forecast::Forecast;
use crate::grid::Cube;
use crate::time::Period;

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

    /// The global tables as Markdown: RMSE of every method per lead, then ACC.
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
             model's RMSE is below the best of the references (climatology, persistence, damped \
             persistence, seasonal damped persistence, LIM).\n",
            self.year, self.training, cells
        );
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
        let rmse_order = Method::TABLE_ORDER;
        let acc_order = [
            Method::Model,
            Method::Persistence,
            Method::DampedPersistence,
            Method::SeasonalDampedPersistence,
            Method::Lim,
        ];
        let header = |s: &mut String, what: &str, order: &[Method], extra: &str| {
            let names: Vec<&str> = order.iter().map(|m| m.short()).collect();
            let _ = writeln!(s, "| lead | period | {what} {} |{extra}", names.join(" | "));
            let _ = writeln!(
                s,
                "|---|---|{}{}",
                "---:|".repeat(order.len()),
                if extra.is_empty() { "" } else { "---:|" }
            );
        };
        let leads = self.lead_labels();
        let period = |lead: &str| {
            self.records
                .iter()
                .find(|r| r.lead == lead)
                .map_or(String::new(), |r| r.period.clone())
        };
        let label = |lead: &str| {
            if lead == "mean" {
                "mean field".to_string()
            } else {
                lead.to_string()
            }
        };
        let cols = |v: Vec<Option<f64>>| v.into_iter().map(f).collect::<Vec<_>>().join(" | ");
        header(&mut s, "RMSE", &rmse_order, " beats best |");
        for lead in &leads {
            let rmse = rmse_order
                .iter()
                .map(|&m| self.get("global", lead, m).map(|x| x.rmse))
                .collect();
            let share = self
                .share_beating_best(lead)
                .map_or("-".into(), |v| format!("{:.0}%", 100.0 * v));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {share} |",
                label(lead),
                period(lead),
                cols(rmse)
            );
        }
        let shares: Vec<f64> = (1..=self.leads)
            .filter_map(|k| self.share_beating_best(&k.to_string()))
            .collect();
        let share = (!shares.is_empty()).then(|| shares.iter().sum::<f64>() / shares.len() as f64);
        let rmse = rmse_order
            .iter()
            .map(|&m| self.mean_over_leads(m, |x| Some(x.rmse)))
            .collect();
        let _ = writeln!(
            s,
            "| avg 1.. |  | {} | {} |",
            cols(rmse),
            share.map_or("-".into(), |v| format!("{:.0}%", 100.0 * v))
        );
        s.push('\n');
        header(&mut s, "ACC", &acc_order, "");
        for lead in &leads {
            let acc = acc_order
                .iter()
                .map(|&m| self.get("global", lead, m).and_then(|x| x.acc))
                .collect();
            let _ = writeln!(s, "| {} | {} | {} |", label(lead), period(lead), cols(acc));
        }
        let acc = acc_order
            .iter()
            .map(|&m| self.mean_over_leads(m, |x| x.acc))
            .collect();
        let _ = writeln!(s, "| avg 1.. |  | {} |", cols(acc));
        s
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serialisable")
    }
}
