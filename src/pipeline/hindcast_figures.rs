//! The figures of a hindcast, from its verification ([`HindcastReport`]) and its forecasts:
//! RMSE and ACC against lead with 95% bands for the model and each reference, the per-region
//! map of the model's RMSE over the best reference's (regions whose difference is not
//! significant hatched), and, when the domain holds the Niño 3.4 box, its area-mean anomaly
//! forecast at leads 3 and 6 from every start against the observations.

use super::hindcast::Hindcast;
use crate::figures::{hindcast_by_lead, hindcast_skill_map, nino34_hindcast, LeadCurve};
use crate::figures::{region_mean, year_of};
use crate::render::RenderError;
use crate::time::Period;
use crate::verify::starts::HindcastReport;
use crate::verify::{Method, References};

/// The methods drawn against lead: the model first, then the references.
fn curves(report: &HindcastReport, metric: &str) -> Vec<LeadCurve> {
    let leads: Vec<String> = (1..=report.horizon).map(|l| l.to_string()).collect();
    std::iter::once(Method::Model)
        .chain(Method::REFERENCES)
        .filter(|&m| metric == "rmse" || m != Method::Climatology)
        .map(|m| {
            let value = |lead: &String| {
                report
                    .get("global", lead, m)
                    .map_or(f64::NAN, |r| match metric {
                        "rmse" => r.rmse,
                        _ => r.acc.unwrap_or(f64::NAN),
                    })
            };
            let band = |lead: &String, hi: bool| {
                report
                    .bands
                    .iter()
                    .find(|b| b.method == m && b.metric == metric && &b.lead == lead)
                    .map_or(f64::NAN, |b| if hi { b.high } else { b.low })
            };
            LeadCurve {
                name: if m == Method::Model {
                    "sstcast".into()
                } else {
                    m.short().into()
                },
                value: leads.iter().map(value).collect(),
                lower: leads.iter().map(|l| band(l, false)).collect(),
                upper: leads.iter().map(|l| band(l, true)).collect(),
            }
        })
        .collect()
}

/// `(file name, PNG)` of every hindcast figure that applies.
pub fn draw(
    hc: &Hindcast,
    report: &HindcastReport,
    refs: &References,
    product: &str,
    maps: &crate::figures::Maps,
) -> Result<Vec<(&'static str, Vec<u8>)>, RenderError> {
    // Short: the figure functions add their own words, and long product names must fit.
    let span = format!(
        "{} starts {}..{}",
        report.starts.len(),
        report.starts.first().cloned().unwrap_or_default(),
        report.starts.last().cloned().unwrap_or_default(),
    );
    let leads: Vec<usize> = (1..=report.horizon).collect();
    let mut out = vec![
        (
            "hindcast_rmse.png",
            hindcast_by_lead(
                &format!("Global RMSE by lead, {span}, {product}"),
                "RMSE (°C)",
                &leads,
                &curves(report, "rmse"),
            )?,
        ),
        (
            "hindcast_acc.png",
            hindcast_by_lead(
                &format!("Global ACC by lead, {span}, {product}"),
                "ACC",
                &leads,
                &curves(report, "acc"),
            )?,
        ),
    ];
    let session = &hc.sessions[0];
    let regions = &session.regions;
    let (mut ratio, mut significant) = (Vec::new(), Vec::new());
    for r in regions {
        let model = report.get(&r.id, "mean", Method::Model).map(|x| x.rmse);
        match (model, report.best_reference(&r.id)) {
            (Some(m), Some((best, b))) if b > 0.0 => {
                ratio.push(m / b);
                let d = report.difference(&r.id, "mean", best);
                significant.push(d.is_some_and(|d| match (d.low, d.high) {
                    (Some(lo), Some(hi)) => lo > 0.0 || hi < 0.0,
                    _ => false,
                }));
            }
            _ => {
                ratio.push(f64::NAN);
                significant.push(false);
            }
        }
    }
    out.push((
        "hindcast_skill_map.png",
        hindcast_skill_map(
            &session.cube.grid,
            regions,
            &ratio,
            &significant,
            (&span, product),
            maps.coastlines.clone(),
        )?,
    ));
    if let Some(png) = nino34(hc, refs, product)? {
        out.push(("hindcast_nino34.png", png));
    }
    Ok(out)
}

/// The Niño 3.4 figure, when a region is called `nino34`; anomalies against the
/// climatology of `refs` (the first fit's references).
fn nino34(hc: &Hindcast, refs: &References, product: &str) -> Result<Option<Vec<u8>>, RenderError> {
    let session = &hc.sessions[0];
    let Some(region) = session.regions.iter().find(|r| r.id == "nino34") else {
        return Ok(None);
    };
    let cube = &session.cube;
    let (Some(first), Some(last)) = (hc.starts.first(), hc.starts.last()) else {
        return Ok(None);
    };
    let horizon = hc.mean.first().map_or(0, |f| f.horizon);
    let w = cube.grid.area_weights();
    let end = Period((last.0 + horizon as i64 - 1).min(cube.start.0 + cube.len() as i64 - 1));
    let targets: Vec<Period> = (first.0..=end.0).map(Period).collect();
    let anomaly = |map: &[f32], p: Period| {
        let clim = refs.climatology(p);
        let a: Vec<f32> = map.iter().zip(&clim).map(|(v, c)| v - c).collect();
        region_mean(&a, &region.cells, &w)
    };
    let observed: Vec<f64> = targets
        .iter()
        .map(|&p| anomaly(cube.step((p.0 - cube.start.0) as usize), p))
        .collect();
    let at_lead = |lead: usize| -> Vec<f64> {
        targets
            .iter()
            .map(|&p| {
                let start = Period(p.0 - lead as i64 + 1);
                match hc.starts.iter().position(|&s| s == start) {
                    Some(i) => anomaly(hc.mean[i].lead(lead - 1), p),
                    None => f64::NAN,
                }
            })
            .collect()
    };
    let leads: Vec<(usize, Vec<f64>)> = [3, 6]
        .into_iter()
        .filter(|&l| l <= horizon)
        .map(|l| (l, at_lead(l)))
        .collect();
    let times: Vec<f64> = targets.iter().map(|&p| year_of(p, cube.freq)).collect();
    let title = format!("Niño 3.4 anomaly: observed and hindcast at leads 3 and 6 ({product})");
    nino34_hindcast(&title, &times, &observed, &leads).map(Some)
}
