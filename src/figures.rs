//! The figures of a run, as people put them in reports.
//!
//! [`crate::render`] knows how to draw a map or a line chart; this module decides what goes
//! into each figure of a forecast run:
//! - `sst_forecast_<Y>.png`: the forecast's mean over the leads (the annual mean for a
//!   12-month forecast), in the style of the original project's 2018 map;
//! - `observed_<Y>.png`: the same for the observations, for side-by-side use;
//! - `error_<Y>.png`: forecast minus observed, on a diverging colormap centred on 0;
//! - `skill_<Y>.png`: each region's model RMSE divided by its best reference's (below 1 = the
//!   model is better), averaged over leads;
//! - `series_<region>_<Y>.png` for named regions: the region's mean SST before the forecast,
//!   the forecast, and the observations of Y (the original project's time-series figure);
//! - `loss_<region>.png` for named regions: training and validation loss per epoch on a log
//!   scale (the original project's loss figure).

use std::path::Path;

use crate::fit::FitRecord;
use crate::forecast::Forecast;
use crate::grid::Cube;
use crate::region::Region;
use crate::render::{
    self, Colormap, HeatmapStyle, LineChartStyle, RenderError, Series, LAND_GREY, TAB10,
};
use crate::time::{Frequency, Period};
use crate::verify::{Method, SkillReport};

/// Labels shared by the figures of one run.
#[derive(Debug, Clone)]
pub struct Labels {
    /// Product name, e.g. "NOAA ERSST v5".
    pub product: String,
    /// Target year.
    pub year: i64,
}

fn span_label(fc: &Forecast) -> String {
    match fc.freq {
        Frequency::Monthly if fc.horizon == 12 && fc.first.year_month(fc.freq).1 == 1 => {
            format!("{} annual mean", fc.first.year_month(fc.freq).0)
        }
        _ => format!(
            "{}..{} mean",
            fc.first.label(fc.freq),
            Period(fc.first.0 + fc.horizon as i64 - 1).label(fc.freq)
        ),
    }
}

/// The forecast map.
pub fn forecast_map(path: &Path, fc: &Forecast, l: &Labels) -> Result<(), RenderError> {
    let style = HeatmapStyle {
        title: format!(
            "{} sea surface temperature forecast, {} (sstcast)",
            l.product,
            span_label(fc)
        ),
        units_label: "Sea surface temperature (°C)".into(),
        ..HeatmapStyle::default()
    };
    render::render_heatmap(
        path,
        &fc.grid.lat,
        &fc.grid.lon,
        &fc.mean_over_leads(),
        &style,
    )
}

/// Observed mean over the forecast leads, where every lead is observed; `None` otherwise.
pub fn observed_mean(cube: &Cube, fc: &Forecast) -> Option<Vec<f32>> {
    let n = cube.grid.ncells();
    let mut sum = vec![0.0f64; n];
    for k in 0..fc.horizon {
        let t = cube.index_of(Period(fc.first.0 + k as i64))?;
        for (s, &v) in sum.iter_mut().zip(cube.step(t)) {
            *s += v as f64;
        }
    }
    Some(
        sum.iter()
            .map(|&s| (s / fc.horizon as f64) as f32)
            .collect(),
    )
}

/// The observed mean map, same style as the forecast map.
pub fn observed_map(
    path: &Path,
    fc: &Forecast,
    obs: &[f32],
    l: &Labels,
) -> Result<(), RenderError> {
    let style = HeatmapStyle {
        title: format!(
            "{} sea surface temperature, observed, {}",
            l.product,
            span_label(fc)
        ),
        units_label: "Sea surface temperature (°C)".into(),
        ..HeatmapStyle::default()
    };
    render::render_heatmap(path, &fc.grid.lat, &fc.grid.lon, obs, &style)
}

/// Forecast minus observed (mean over the leads), diverging colours centred on 0.
pub fn error_map(path: &Path, fc: &Forecast, obs: &[f32], l: &Labels) -> Result<(), RenderError> {
    let err: Vec<f32> = fc
        .mean_over_leads()
        .iter()
        .zip(obs)
        .map(|(f, o)| f - o)
        .collect();
    let style = HeatmapStyle {
        title: format!(
            "Forecast minus observed, {} ({}, sstcast)",
            span_label(fc),
            l.product
        ),
        units_label: "Forecast error (°C)".into(),
        vmin: -2.0,
        vmax: 2.0,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        ..HeatmapStyle::default()
    };
    render::render_heatmap(path, &fc.grid.lat, &fc.grid.lon, &err, &style)
}

/// Per region: the model's RMSE averaged over the verified leads, over that of the best
/// reference (the one with the lowest average). Why averages and not a mean of per-lead
/// ratios: at a single lead the best of three references is often lucky, and ratios to it
/// are skewed upward (in the 2018 hindcast most of the ocean sat at 1.5 or more, the top of
/// the scale, while the model's global RMSE was within 1% of damped persistence's).
pub fn skill_map(
    path: &Path,
    fc: &Forecast,
    skill: &SkillReport,
    l: &Labels,
) -> Result<(), RenderError> {
    let mut ratio = vec![f32::NAN; fc.grid.ncells()];
    let average = |id: &str, m: Method| -> Option<f64> {
        let v: Vec<f64> = (1..=skill.leads)
            .filter_map(|k| skill.get(id, &k.to_string(), m).map(|s| s.rmse))
            .collect();
        (!v.is_empty() && v.len() == skill.leads).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    for r in &fc.regions {
        let best = Method::REFERENCES
            .iter()
            .filter_map(|&m| average(&r.id, m))
            .min_by(f64::total_cmp);
        if let (Some(m), Some(best)) = (average(&r.id, Method::Model), best) {
            if best > 0.0 {
                for &c in &r.cells {
                    ratio[c] = (m / best) as f32;
                }
            }
        }
    }
    let style = HeatmapStyle {
        title: format!(
            "Model RMSE / best reference RMSE per region, {} (below 1: model better)",
            l.year
        ),
        units_label: "RMSE ratio (model / best of climatology, persistence, damped persistence)"
            .into(),
        vmin: 0.5,
        vmax: 1.5,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        ..HeatmapStyle::default()
    };
    render::render_heatmap(path, &fc.grid.lat, &fc.grid.lon, &ratio, &style)
}

/// Fractional year of the middle of a period, for time axes.
fn year_of(p: Period, freq: Frequency) -> f64 {
    let (y, m) = p.year_month(freq);
    match freq {
        Frequency::Monthly => y as f64 + (m as f64 - 0.5) / 12.0,
        Frequency::Annual => y as f64 + 0.5,
    }
}

/// Area-weighted mean of `map` over `cells` (NaN if none valid).
fn region_mean(map: &[f32], cells: &[usize], w: &[f64]) -> f64 {
    let (mut s, mut ws) = (0.0, 0.0);
    for &c in cells {
        if map[c].is_finite() {
            s += w[c] * map[c] as f64;
            ws += w[c];
        }
    }
    if ws > 0.0 {
        s / ws
    } else {
        f64::NAN
    }
}

/// The time-series figure of one region.
pub fn series(
    path: &Path,
    cube: &Cube,
    fc: &Forecast,
    r: &Region,
    l: &Labels,
) -> Result<(), RenderError> {
    let w = cube.grid.area_weights();
    let (mut px, mut py, mut ox, mut oy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in 0..cube.len() {
        let p = cube.period(t);
        if p >= Period(fc.first.0 + fc.horizon as i64) {
            break;
        }
        let (xs, ys) = if p < fc.first {
            (&mut px, &mut py)
        } else {
            (&mut ox, &mut oy)
        };
        xs.push(year_of(p, cube.freq));
        ys.push(region_mean(cube.step(t), &r.cells, &w));
    }
    let (fx, fy): (Vec<f64>, Vec<f64>) = (0..fc.horizon)
        .map(|k| {
            let p = Period(fc.first.0 + k as i64);
            (year_of(p, fc.freq), region_mean(fc.lead(k), &r.cells, &w))
        })
        .unzip();
    let black = [0, 0, 0];
    let mut s = vec![Series {
        label: "observed".into(),
        x: px,
        y: py,
        color: black,
        ..Series::default()
    }];
    if !ox.is_empty() {
        s.push(Series {
            label: "observed".into(),
            x: ox,
            y: oy,
            color: black,
            ..Series::default()
        });
    }
    s.push(Series {
        label: "sstcast forecast".into(),
        x: fx,
        y: fy,
        color: TAB10[3],
        dashed: true,
        width: 2.5,
    });
    let first_year = cube.start.year_month(cube.freq).0;
    let last_year = Period(fc.first.0 + fc.horizon as i64 - 1)
        .year_month(fc.freq)
        .0;
    let step = ((last_year - first_year) / 10).max(1);
    let ticks = (first_year..=last_year + 1)
        .step_by(step as usize)
        .map(|y| (y as f64, y.to_string()))
        .collect();
    let style = LineChartStyle {
        title: format!(
            "{}: area-mean SST, {} observations and sstcast forecast for {}",
            r.id, l.product, l.year
        ),
        x_label: "year".into(),
        y_label: "Sea surface temperature (°C)".into(),
        x_ticks: Some(ticks),
        vertical_line: Some((
            year_of(fc.first, fc.freq) - 0.5 / 12.0,
            "forecast start".into(),
        )),
        ..LineChartStyle::default()
    };
    render::render_lines(path, &s, &style)
}

/// The loss figure of one region (first ensemble member).
pub fn loss(path: &Path, id: &str, r: &FitRecord) -> Result<(), RenderError> {
    let train = Series {
        label: "training".into(),
        x: (1..=r.losses.len()).map(|e| e as f64).collect(),
        y: r.losses.iter().map(|&v| v as f64).collect(),
        color: TAB10[0],
        ..Series::default()
    };
    let mut s = vec![train];
    if !r.val_losses.is_empty() {
        s.push(Series {
            label: "validation (last training year)".into(),
            x: (0..r.val_losses.len()).map(|e| e as f64).collect(),
            y: r.val_losses.iter().map(|&v| v as f64).collect(),
            color: TAB10[1],
            ..Series::default()
        });
    }
    let best = r.best_epochs.first().copied().unwrap_or(0);
    let style = LineChartStyle {
        title: format!("{id}: loss per epoch (kept epoch {best})"),
        x_label: "epoch".into(),
        y_label: "MSE of standardised anomalies".into(),
        log_y: true,
        vertical_line: (!r.val_losses.is_empty()).then(|| (best as f64, "kept".into())),
        ..LineChartStyle::default()
    };
    render::render_lines(path, &s, &style)
}
