//! The figures of a hindcast: many starts verified together (issue 12).
//!
//! - [`hindcast_by_lead`]: a skill score (RMSE or ACC) against lead for the model and each
//!   reference, each with its 95% interval as a translucent band;
//! - [`hindcast_skill_map`]: each region's model RMSE over its best reference's, as the
//!   forecast's skill map, with the regions whose difference is not significant hatched;
//! - [`nino34_hindcast`]: the observed Niño 3.4 area-mean anomaly against the forecasts of
//!   every start at a few leads (3 and 6 months), valid at the same target months.
//!
//! Why plain numbers in: the verification over starts (bootstrap intervals, significance)
//! is computed elsewhere and may change shape; these functions only decide how the numbers
//! look, so they take slices and names and the pipeline feeds them.
//!
//! Colours: the model is red and drawn first (first in the legend), solid and widest;
//! each reference keeps one TAB10 colour in every figure, chosen by its name, and is dashed,
//! so that the model's line reads at a glance among five references and their bands. The
//! model's band is stronger (opacity 0.25, on top) than the references' (0.1): five
//! overlapping intervals at 0.2 each turn into an unreadable grey.

use super::{ratio_map, year_ticks};
use crate::grid::LatLon;
use crate::region::Region;
use crate::render::{self, Band, LineChartStyle, Polylines, RenderError, Series, TAB10};
use std::sync::Arc;

/// One curve of [`hindcast_by_lead`]: a score per lead and its 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadCurve {
    /// Legend text: "sstcast" (the model, first) or the reference's name.
    pub name: String,
    /// The score per lead (same order as `leads`); NaN = not verified.
    pub value: Vec<f64>,
    /// Lower end of the 95% interval per lead; NaN = none.
    pub lower: Vec<f64>,
    /// Upper end of the 95% interval per lead; NaN = none.
    pub upper: Vec<f64>,
}

/// The model's colour (as in the forecast's series figure).
const MODEL: [u8; 3] = TAB10[3];

/// A reference's fixed colour, by name; unknown names take the spare colours in turn.
fn reference_color(name: &str, spare: &mut impl Iterator<Item = [u8; 3]>) -> [u8; 3] {
    let n = name.to_lowercase();
    // Full names and the skill tables' short labels.
    let known = [
        ("climatology", TAB10[7]),
        ("clim", TAB10[7]),
        ("persistence", TAB10[1]),
        ("pers", TAB10[1]),
        ("damped persistence", TAB10[2]),
        ("damped", TAB10[2]),
        ("seasonal damped persistence", TAB10[0]),
        ("seas. damped", TAB10[0]),
        ("lim", TAB10[4]),
        ("linear inverse model", TAB10[4]),
        ("last value", TAB10[5]),
    ];
    match known.iter().find(|(k, _)| *k == n) {
        Some(&(_, c)) => c,
        None => spare.next().unwrap_or(TAB10[8]),
    }
}

fn chart_error(message: String) -> RenderError {
    RenderError::Chart { message }
}

/// A score against lead: `curves[0]` is the model (red, solid, widest), the others are
/// references (dashed, fixed colours by name), each with its interval as a band.
/// `metric` is the y label, e.g. "RMSE (°C)" or "ACC".
///
/// Errors when there is no curve or a curve's `value`, `lower` or `upper` does not have one
/// entry per lead.
pub fn hindcast_by_lead(
    title: &str,
    metric: &str,
    leads: &[usize],
    curves: &[LeadCurve],
) -> Result<Vec<u8>, RenderError> {
    if curves.is_empty() {
        return Err(chart_error("no curve to plot".into()));
    }
    let n = leads.len();
    if let Some(c) = curves
        .iter()
        .find(|c| c.value.len() != n || c.lower.len() != n || c.upper.len() != n)
    {
        return Err(chart_error(format!(
            "curve {:?} has {} values, {} lower and {} upper bounds for {n} leads",
            c.name,
            c.value.len(),
            c.lower.len(),
            c.upper.len()
        )));
    }
    let x: Vec<f64> = leads.iter().map(|&k| k as f64).collect();
    let mut spare = [6, 8, 9].into_iter().map(|i| TAB10[i]);
    let series: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            label: c.name.clone(),
            x: x.clone(),
            y: c.value.clone(),
            color: if i == 0 {
                MODEL
            } else {
                reference_color(&c.name, &mut spare)
            },
            dashed: i > 0,
            width: if i == 0 { 3.0 } else { 1.8 },
            band: Some(Band {
                lower: c.lower.clone(),
                upper: c.upper.clone(),
                alpha: if i == 0 { 0.25 } else { 0.1 },
            }),
        })
        .collect();
    // Every lead labelled when they are few; automatic ticks otherwise.
    let x_ticks = (n <= 12).then(|| leads.iter().map(|&k| (k as f64, k.to_string())).collect());
    let style = LineChartStyle {
        title: format!("{title} (shaded: 95% interval)"),
        x_label: "lead (months)".into(),
        y_label: metric.into(),
        x_ticks,
        ..LineChartStyle::default()
    };
    render::render_lines(&series, &style)
}

/// Per region: the model's RMSE over the best reference's (`ratio`, one per region; NaN =
/// not drawn), diverging colours centred on 1 as in the forecast's skill map, and the
/// regions whose difference is not `significant` hatched. `title` says what was verified
/// (e.g. "hindcast 2000-01..2013-10, leads 1-12"), `product` the data.
///
/// Errors when `ratio` or `significant` does not have one entry per region.
pub fn hindcast_skill_map(
    grid: &LatLon,
    regions: &[Region],
    ratio: &[f64],
    significant: &[bool],
    (title, product): (&str, &str),
    coastlines: Option<Arc<Polylines>>,
) -> Result<Vec<u8>, RenderError> {
    if ratio.len() != regions.len() || significant.len() != regions.len() {
        return Err(RenderError::Draw {
            message: format!(
                "{} ratios and {} significance flags for {} regions",
                ratio.len(),
                significant.len(),
                regions.len()
            ),
        });
    }
    let hatched: Vec<bool> = significant.iter().map(|s| !s).collect();
    let title = format!(
        "Model / best reference RMSE over leads (below 1: model better), {title} ({product})"
    );
    let units = "RMSE ratio (hatched: difference not significant, 95%)";
    let height = map_height(grid);
    let (hatched, style) = (Some(&hatched[..]), (height, coastlines));
    ratio_map(grid, regions, ratio, hatched, (title, units), style)
}

/// A figure height (for the default width) that fits a map of `grid` without wide empty
/// bands above and below it: regional domains are often much wider than tall.
pub(super) fn map_height(grid: &LatLon) -> u32 {
    let extent = |c: &[f64]| -> f64 {
        match (c.first(), c.last()) {
            (Some(a), Some(b)) if c.len() > 1 => {
                (b - a).abs() * c.len() as f64 / (c.len() - 1) as f64
            }
            _ => 1.0,
        }
    };
    let aspect = (extent(&grid.lat) / extent(&grid.lon)).clamp(0.0, 1.0);
    // The map is about 1220 pixels wide at the default width; title and axes ~150 pixels.
    (1220.0 * aspect + 150.0).clamp(360.0, 750.0) as u32
}

/// The observed Niño 3.4 anomaly (`observed`, at `times` in decimal years) against the
/// forecasts of every start at a few leads (`leads`: `(lead, forecast valid at each of
/// `times`, NaN where none)`), with a zero line.
///
/// Errors when a forecast does not have one value per time, or nothing is drawable.
pub fn nino34_hindcast(
    title: &str,
    times: &[f64],
    observed: &[f64],
    leads: &[(usize, Vec<f64>)],
) -> Result<Vec<u8>, RenderError> {
    if let Some((k, v)) = leads.iter().find(|(_, v)| v.len() != times.len()) {
        return Err(chart_error(format!(
            "the lead-{k} forecast has {} values for {} times",
            v.len(),
            times.len()
        )));
    }
    let (first, last) = times
        .iter()
        .filter(|t| t.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| {
            (a.min(t), b.max(t))
        });
    let mut series = Vec::new();
    if first <= last {
        series.push(Series {
            x: vec![first, last],
            y: vec![0.0, 0.0],
            color: [128, 128, 128],
            width: 1.0,
            ..Series::default()
        });
    }
    series.push(Series {
        label: "observed".into(),
        x: times.to_vec(),
        y: observed.to_vec(),
        color: [0, 0, 0],
        width: 2.5,
        ..Series::default()
    });
    let colours = [TAB10[3], TAB10[0], TAB10[2], TAB10[4]];
    for (i, (k, v)) in leads.iter().enumerate() {
        series.push(Series {
            label: format!("forecast at lead {k}"),
            x: times.to_vec(),
            y: v.clone(),
            color: colours[i % colours.len()],
            dashed: i > 0,
            width: 2.0,
            ..Series::default()
        });
    }
    let x_ticks = (first <= last).then(|| year_ticks(first.floor() as i64, last.floor() as i64));
    let style = LineChartStyle {
        title: title.into(),
        x_label: "target month".into(),
        y_label: "Niño 3.4 anomaly (°C)".into(),
        x_ticks,
        width: 1400,
        ..LineChartStyle::default()
    };
    render::render_lines(&series, &style)
}

/// The hindcast figures on synthetic numbers, pinned by the FNV-1a hash and length of their
/// PNG bytes (as `figures::golden`); with `SSTCAST_GOLDEN_DIR` set they are also written
/// there (`hindcast_<name>.png`) to be looked at.
#[cfg(test)]
mod golden {
    use super::*;

    fn curves(acc: bool) -> Vec<LeadCurve> {
        let names = [
            "sstcast",
            "climatology",
            "persistence",
            "damped persistence",
            "seasonal damped persistence",
            "LIM",
        ];
        let (base, slope) = if acc {
            ([0.9, 0.0, 0.85, 0.86, 0.88, 0.87], -0.045)
        } else {
            ([0.30, 0.56, 0.33, 0.32, 0.31, 0.315], 0.022)
        };
        names
            .iter()
            .zip(base)
            .map(|(n, b)| {
                let flat = *n == "climatology";
                let value: Vec<f64> = (1..=12)
                    .map(|k| {
                        let k = k as f64;
                        if flat {
                            b
                        } else {
                            b + slope * k * (1.0 - k / 30.0)
                        }
                    })
                    .collect();
                let half = if acc { 0.05 } else { 0.02 };
                LeadCurve {
                    name: n.to_string(),
                    lower: value.iter().map(|v| v - half).collect(),
                    upper: value.iter().map(|v| v + half).collect(),
                    value,
                }
            })
            .collect()
    }

    fn skill_map() -> Result<Vec<u8>, RenderError> {
        let lat: Vec<f64> = (0..30).map(|i| 29.0 - 2.0 * i as f64).collect();
        let lon: Vec<f64> = (0..70).map(|j| 131.0 + 2.0 * j as f64).collect();
        let grid = LatLon { lat, lon };
        let (nlat, nlon) = (grid.nlat(), grid.nlon());
        let land = |i: usize, j: usize| j < 8 && i < 12;
        let mut regions = Vec::new();
        for ti in 0..nlat.div_ceil(5) {
            for tj in 0..nlon.div_ceil(5) {
                let cells: Vec<usize> = (ti * 5..(ti * 5 + 5).min(nlat))
                    .flat_map(|i| (tj * 5..(tj * 5 + 5).min(nlon)).map(move |j| (i, j)))
                    .filter(|&(i, j)| !land(i, j))
                    .map(|(i, j)| i * nlon + j)
                    .collect();
                if !cells.is_empty() {
                    regions.push(Region {
                        id: format!("tile_{ti:02}_{tj:02}"),
                        cells,
                    });
                }
            }
        }
        let ratio: Vec<f64> = (0..regions.len())
            .map(|r| 0.9 + 0.25 * ((r as f64) * 0.7).sin())
            .collect();
        let significant: Vec<bool> = ratio.iter().map(|r| (r - 1.0).abs() > 0.12).collect();
        hindcast_skill_map(
            &grid,
            &regions,
            &ratio,
            &significant,
            ("hindcast 2000-01..2013-10, leads 1-12", "Kaplan SST v2"),
            None,
        )
    }

    fn nino() -> Result<Vec<u8>, RenderError> {
        let times: Vec<f64> = (0..166).map(|i| 2000.0 + (i as f64 + 0.5) / 12.0).collect();
        let obs: Vec<f64> = times
            .iter()
            .map(|t| 1.2 * (t * 1.6).sin() + 0.4 * (t * 4.1).sin())
            .collect();
        let lead = |k: usize, err: f64| -> (usize, Vec<f64>) {
            let v = (0..times.len())
                .map(|i| {
                    if i < k {
                        f64::NAN
                    } else {
                        0.8 * obs[i - k / 2] + err * (i as f64 * 0.9).sin()
                    }
                })
                .collect();
            (k, v)
        };
        nino34_hindcast(
            "Niño 3.4 area-mean anomaly: observed and hindcasts at leads 3 and 6 (Kaplan SST v2, sstcast)",
            &times,
            &obs,
            &[lead(3, 0.15), lead(6, 0.3)],
        )
    }

    #[test]
    fn hindcast_figures_are_byte_identical() {
        let leads: Vec<usize> = (1..=12).collect();
        let got = [
            (
                "rmse_by_lead",
                hindcast_by_lead(
                    "Hindcast RMSE by lead, 2000-01..2013-10 (Kaplan SST v2)",
                    "RMSE (°C)",
                    &leads,
                    &curves(false),
                ),
            ),
            (
                "acc_by_lead",
                hindcast_by_lead(
                    "Hindcast ACC by lead, 2000-01..2013-10 (Kaplan SST v2)",
                    "ACC",
                    &leads,
                    &curves(true),
                ),
            ),
            ("skill_map", skill_map()),
            ("nino34", nino()),
        ];
        let want: [(&str, u64, usize); 4] = [
            ("rmse_by_lead", 0x894ddce8d054e7ce, 116625),
            ("acc_by_lead", 0x2a5739795aab810f, 120020),
            ("skill_map", 0x1ea36f926abc8890, 624035),
            ("nino34", 0x75b34fe0e3222477, 205129),
        ];
        super::super::golden::assert_golden(&got, &want, "hindcast_");
    }

    #[test]
    fn mismatched_inputs_are_errors() {
        let mut c = curves(false);
        c[2].upper.pop();
        let leads: Vec<usize> = (1..=12).collect();
        assert!(hindcast_by_lead("t", "RMSE (°C)", &leads, &c).is_err());
        assert!(hindcast_by_lead("t", "ACC", &[1], &[]).is_err());
        let grid = LatLon {
            lat: vec![1.0, -1.0],
            lon: vec![0.0, 2.0],
        };
        let regions = [Region {
            id: "a".into(),
            cells: vec![0, 1],
        }];
        assert!(
            hindcast_skill_map(&grid, &regions, &[1.0, 2.0], &[true], ("t", "p"), None).is_err()
        );
        assert!(nino34_hindcast("t", &[2000.0, 2000.1], &[0.0, 1.0], &[(3, vec![0.0])]).is_err());
    }
}
