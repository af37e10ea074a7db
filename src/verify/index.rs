//! Skill on a climate index: the area-mean anomaly of one region (Niño 3.4 when the domain
//! holds the `nino34` box), as ENSO forecasters report it.
//!
//! The gridded scores of [`super::starts`] average errors over cells; ENSO forecasts are
//! judged instead on one number per month, the Niño 3.4 index, by the correlation over the
//! starts between its forecast and its observed anomaly at each lead (lead 6 is the customary
//! headline). The anomalies are taken about each start's references' training climatology,
//! for the observations, the model and every reference alike, so a method gains nothing from
//! a different climatology.

use std::fmt::Write as _;

use super::starts::StartsInput;
use super::Method;

/// Correlation and RMSE of one method's index forecasts at one lead.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndexSkill {
    /// The region whose area-mean anomaly is the index.
    pub region: String,
    /// Lead, 1-based.
    pub lead: usize,
    /// Method.
    pub method: Method,
    /// Pearson correlation of forecast and observed index over the starts.
    pub acc: f64,
    /// RMSE of the index, degC.
    pub rmse: f64,
    /// Starts with an observed target.
    pub starts: usize,
}

/// Index skill of the model and every reference at `leads`, for the index of `cells`
/// (called `region`), over the starts of `input` (the hindcast's, as [`verify_starts`]
/// reads them). Leads beyond the horizon, and targets past the data, are skipped.
///
/// [`verify_starts`]: super::starts::verify_starts
pub fn index_skill(
    input: &StartsInput<'_>,
    region: &str,
    cells: &[usize],
    leads: &[usize],
) -> Vec<IndexSkill> {
    let cube = input.cube;
    let n = cube.grid.ncells();
    let mean_of = |map: &[f32], clim: &[f32]| -> f64 {
        let (mut s, mut w) = (0.0, 0.0);
        for &c in cells {
            let a = map[c] - clim[c];
            if a.is_finite() {
                s += input.weights[c] * a as f64;
                w += input.weights[c];
            }
        }
        if w > 0.0 {
            s / w
        } else {
            f64::NAN
        }
    };
    let mut out = Vec::new();
    for &lead in leads.iter().filter(|&&l| l >= 1 && l <= input.horizon) {
        let mut pairs: Vec<(Method, Vec<(f64, f64)>)> = Method::TABLE_ORDER
            .iter()
            .map(|&m| (m, Vec::new()))
            .collect();
        for (i, (&start, refs)) in input.starts.iter().zip(input.references).enumerate() {
            let target = start + lead - 1;
            if target >= cube.len() {
                continue;
            }
            let clim = refs.climatology(cube.period(target));
            let observed = mean_of(cube.step(target), &clim);
            if !observed.is_finite() {
                continue;
            }
            for (m, v) in pairs.iter_mut() {
                let forecast = match m {
                    Method::Model => {
                        let at = (i * input.horizon + lead - 1) * n;
                        mean_of(&input.mean[at..at + n], &clim)
                    }
                    _ => match refs.forecast_from(cube, start, *m, lead) {
                        Some(map) => mean_of(&map, &clim),
                        None => f64::NAN,
                    },
                };
                if forecast.is_finite() {
                    v.push((forecast, observed));
                }
            }
        }
        for (method, v) in pairs {
            if v.len() < 3 {
                continue;
            }
            out.push(IndexSkill {
                region: region.to_string(),
                lead,
                method,
                acc: correlation(&v),
                rmse: (v.iter().map(|(f, o)| (f - o).powi(2)).sum::<f64>() / v.len() as f64).sqrt(),
                starts: v.len(),
            });
        }
    }
    out
}

/// Pearson correlation of the pairs (NaN when either side is constant).
fn correlation(v: &[(f64, f64)]) -> f64 {
    let n = v.len() as f64;
    let (mf, mo) = (
        v.iter().map(|p| p.0).sum::<f64>() / n,
        v.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sfo, mut sff, mut soo) = (0.0, 0.0, 0.0);
    for (f, o) in v {
        sfo += (f - mf) * (o - mo);
        sff += (f - mf).powi(2);
        soo += (o - mo).powi(2);
    }
    if sff > 0.0 && soo > 0.0 {
        sfo / (sff * soo).sqrt()
    } else {
        f64::NAN
    }
}

/// The index table as Markdown: one row per method, correlation (and RMSE) per lead.
pub fn to_markdown(skill: &[IndexSkill]) -> String {
    let Some(first) = skill.first() else {
        return String::new();
    };
    let mut leads: Vec<usize> = skill.iter().map(|s| s.lead).collect();
    leads.dedup();
    let mut s = format!(
        "Index `{}` (area-mean anomaly of the region): correlation of forecast and observed index over the starts, \
         with the index RMSE in degC in brackets (higher correlation, lower RMSE is better).\n\n| method |",
        first.region
    );
    for l in &leads {
        let _ = write!(s, " lead {l} |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(leads.len()));
    s.push('\n');
    for m in Method::TABLE_ORDER {
        if !skill.iter().any(|r| r.method == m) {
            continue;
        }
        let _ = write!(s, "| {} |", m.short());
        for &l in &leads {
            match skill.iter().find(|r| r.method == m && r.lead == l) {
                Some(r) => {
                    let _ = write!(s, " {:.2} ({:.2}) |", r.acc, r.rmse);
                }
                None => s.push_str(" - |"),
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_by_hand() {
        let v = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)];
        let r = correlation(&v);
        assert!(r > 0.99 && r < 1.0, "{r}");
        let anti = [(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)];
        assert!((correlation(&anti) + 1.0).abs() < 1e-12);
        assert!(correlation(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).is_nan());
    }
}
