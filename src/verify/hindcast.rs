//! The verification of a hindcast ([`HindcastReport`], built by
//! [`super::starts::verify_starts`], whose module docs define every score): lookups for the
//! figures, `hindcast.md` and `hindcast.json`.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::starts::BootstrapSettings;
use super::Method;

/// One region x lead x method of a hindcast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HindcastRecord {
    /// `global` or a region id.
    pub region: String,
    /// `1`..horizon, or `mean` (mean over leads).
    pub lead: String,
    /// Method.
    pub method: Method,
    /// Mean over starts of the per-start RMSE, degC.
    pub rmse: f64,
    /// Mean over starts of the per-start MAE, degC.
    pub mae: f64,
    /// Mean over starts of the per-start bias (forecast minus observed), degC.
    pub bias: f64,
    /// Mean over starts of the per-start ACC.
    pub acc: Option<f64>,
    /// Model only: mean over starts of the ensemble's CRPS, degC.
    pub crps: Option<f64>,
    /// Model only: mean spread over mean RMSE (several members).
    pub spread_error: Option<f64>,
    /// Starts scored (the "mean" lead: the most of any lead).
    pub starts: usize,
    /// Cells scored (the most of any start).
    pub cells: usize,
}

/// Model minus reference, RMSE, with its 95% block-bootstrap interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// `global` or a region id.
    pub region: String,
    /// `1`..horizon, or `mean` (averaged over leads).
    pub lead: String,
    /// The reference.
    pub reference: Method,
    /// Mean difference, degC (negative: the model is better).
    pub mean: f64,
    /// 95% interval.
    pub low: Option<f64>,
    /// 95% interval.
    pub high: Option<f64>,
}

/// Share of regions where the model is significantly better or worse than a reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Significance {
    /// The reference.
    pub reference: Method,
    /// `1`..horizon, or `mean`.
    pub lead: String,
    /// Regions with an interval.
    pub regions: usize,
    /// Share whose interval lies entirely below 0.
    pub better: f64,
    /// Share whose interval lies entirely above 0.
    pub worse: f64,
}

/// A 95% bootstrap band of a global score, for the figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Band {
    /// Method.
    pub method: Method,
    /// `rmse` or `acc`.
    pub metric: &'static str,
    /// `1`..horizon, or `mean`.
    pub lead: String,
    /// 2.5% quantile.
    pub low: f64,
    /// 97.5% quantile.
    pub high: f64,
}

/// The verification of a hindcast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HindcastReport {
    /// Training period(s) of the references.
    pub training: String,
    /// Start labels (`2000-01`, ...).
    pub starts: Vec<String>,
    /// Calendar years of the starts: the bootstrap's blocks.
    pub years: Vec<i64>,
    /// Leads per start.
    pub horizon: usize,
    /// Ensemble members.
    pub members: usize,
    /// Bootstrap settings.
    pub bootstrap: BootstrapSettings,
    /// Every region x lead x method.
    pub records: Vec<HindcastRecord>,
    /// Model minus each reference, every region x lead.
    pub differences: Vec<Difference>,
    /// Share of regions significantly better/worse, per reference and lead.
    pub significance: Vec<Significance>,
    /// Global bands of RMSE and ACC.
    pub bands: Vec<Band>,
    /// `(region, lead, method)` -> index in `records`.
    #[serde(skip)]
    pub(super) index: HashMap<(String, String, Method), usize>,
}

impl HindcastReport {
    /// The record of `region`, `lead` (`1`.. or `mean`), `method`.
    pub fn get(&self, region: &str, lead: &str, method: Method) -> Option<&HindcastRecord> {
        self.index
            .get(&(region.to_string(), lead.to_string(), method))
            .map(|&i| &self.records[i])
    }

    /// Model minus `reference` in `region` at `lead`.
    pub fn difference(&self, region: &str, lead: &str, reference: Method) -> Option<&Difference> {
        self.differences
            .iter()
            .find(|d| d.region == region && d.lead == lead && d.reference == reference)
    }

    /// The reference with the lowest RMSE averaged over leads in `region`, with that RMSE.
    pub fn best_reference(&self, region: &str) -> Option<(Method, f64)> {
        Method::REFERENCES
            .iter()
            .filter_map(|&m| self.get(region, "mean", m).map(|r| (m, r.rmse)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Region ids (without `global`), in input order.
    pub fn regions(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.records
            .iter()
            .map(|r| r.region.as_str())
            .filter(|r| *r != "global" && seen.insert(*r))
            .collect()
    }

    /// Lead labels present (`1`.., then `mean`).
    pub fn lead_labels(&self) -> Vec<String> {
        let mut v: Vec<String> = (1..=self.horizon)
            .map(|l| l.to_string())
            .filter(|l| self.get("global", l, Method::Model).is_some())
            .collect();
        if self.get("global", "mean", Method::Model).is_some() {
            v.push("mean".into());
        }
        v
    }

    /// The global tables as Markdown: RMSE of every method, ACC, CRPS and spread/error of the
    /// model per lead; then the model minus each reference with its interval and the shares
    /// of regions significantly better and worse.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let first = self.starts.first().map_or("-", String::as_str);
        let last = self.starts.last().map_or("-", String::as_str);
        let cells = self
            .get("global", "mean", Method::Model)
            .map_or(0, |r| r.cells);
        let _ = writeln!(
            s,
            "Hindcast: {} starts {first}..{last} ({} years), leads 1..{}, references trained on \
             {}; {} member(s); area-weighted (cos latitude) over up to {cells} cells. Each score \
             is the mean over starts of the per-start score (RMSE in degC, lower is better; ACC \
             = anomaly correlation). \"mean\" = mean over leads.\n",
            self.starts.len(),
            self.years.len(),
            self.horizon,
            self.training,
            self.members,
        );
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
        let order = Method::TABLE_ORDER;
        let names: Vec<&str> = order.iter().map(|m| m.short()).collect();
        let _ = writeln!(
            s,
            "| lead | starts | RMSE {} | ACC model | CRPS model | spread/error |",
            names.join(" | ")
        );
        let _ = writeln!(
            s,
            "|---|---:|{}---:|---:|---:|",
            "---:|".repeat(order.len())
        );
        for lead in self.lead_labels() {
            let g = |m: Method| self.get("global", &lead, m);
            let model = g(Method::Model);
            let rmse: Vec<String> = order.iter().map(|&m| f(g(m).map(|r| r.rmse))).collect();
            let _ = writeln!(
                s,
                "| {lead} | {} | {} | {} | {} | {} |",
                model.map_or(0, |r| r.starts),
                rmse.join(" | "),
                f(model.and_then(|r| r.acc)),
                f(model.and_then(|r| r.crps)),
                f(model.and_then(|r| r.spread_error)),
            );
        }
        let _ = writeln!(
            s,
            "\nModel minus reference, global RMSE averaged over leads (negative: the model is \
             better), with its 95% interval from a block bootstrap over start years ({} \
             replicates, seed {}); regions better/worse = share of regions whose own interval \
             lies entirely below/above 0.\n",
            self.bootstrap.replicates, self.bootstrap.seed
        );
        s.push_str(
            "| reference | model - reference | 95% interval | regions better | regions worse |\n",
        );
        s.push_str("|---|---:|---|---:|---:|\n");
        let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.0}%", 100.0 * v));
        for reference in Method::REFERENCES {
            let Some(d) = self.difference("global", "mean", reference) else {
                continue;
            };
            let interval = match (d.low, d.high) {
                (Some(lo), Some(hi)) => format!("{lo:+.3} .. {hi:+.3}"),
                _ => "-".into(),
            };
            let sig = self
                .significance
                .iter()
                .find(|x| x.reference == reference && x.lead == "mean");
            let _ = writeln!(
                s,
                "| {} | {:+.3} | {interval} | {} | {} |",
                reference.short(),
                d.mean,
                pct(sig.map(|x| x.better)),
                pct(sig.map(|x| x.worse)),
            );
        }
        s
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> String {
        // Compact: a global hindcast has some 100,000 records (22 MB pretty-printed).
        let mut s = serde_json::to_string(self).expect("serialisable");
        s.push('\n');
        s
    }
}
