//! The figures of a run, as people put them in reports.
//!
//! [`crate::render`] knows how to draw a map or a line chart; this module decides what goes
//! into each figure of a forecast run. Each function returns the figure's PNG bytes; the
//! pipeline writes them with the run's other outputs:
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
//!
//! Every map has the Natural Earth coastlines over its cells ([`coast`]) unless the
//! pipeline's `outputs.coastlines` is false or the file is missing (a warning). Colour
//! scales fit the field ([`Maps`]): the original -2..30 degC on a global temperature map,
//! a range from the data (robust percentiles, rounded; centred on 0 for anomalies) on
//! regional and anomaly maps, unless the pipeline's `outputs.color_range` sets one.
//!
//! The figures of a hindcast (many starts) are in [`hindcast`]: skill against lead with 95%
//! bands, the per-region skill map with non-significant regions hatched, Niño 3.4 forecasts
//! at two leads against observations. They take plain numbers, not the verification's types.

pub mod coast;
mod hindcast;

pub use hindcast::{hindcast_by_lead, hindcast_skill_map, nino34_hindcast, LeadCurve};

use crate::fit::FitRecord;
use crate::forecast::Forecast;
use crate::grid::{Cube, LatLon};
use crate::region::Region;
use crate::render::{
    self, Colormap, HeatmapStyle, LineChartStyle, Polylines, RenderError, Series, LAND_GREY, TAB10,
};
use crate::time::{Frequency, Period};
use crate::verify::{Method, SkillReport};
use std::sync::Arc;

/// Labels shared by the figures of one run.
#[derive(Debug, Clone)]
pub struct Labels {
    /// Product name, e.g. "NOAA ERSST v5".
    pub product: String,
    /// Target year.
    pub year: i64,
    /// How the maps are drawn.
    pub maps: Maps,
}

/// What the maps of a run share beyond their labels.
#[derive(Debug, Clone, Default)]
pub struct Maps {
    /// Coastlines over the cells; `None` = none.
    pub coastlines: Option<Arc<Polylines>>,
    /// The colour range of the forecast and observed maps (`outputs.color_range`);
    /// `None` = chosen from the field (see [`Maps::range`]).
    pub range: Option<(f32, f32)>,
    /// The variable is an anomaly (its name says `anom`): ranges centred on 0.
    pub anomaly: bool,
}

impl Maps {
    /// The colour range for `values` on `grid`: the configured one; else -2..30 degC (the
    /// original figure's) on a global map of temperatures; else the field's robust range.
    pub fn range(&self, grid: &LatLon, values: &[f32]) -> (f32, f32) {
        let span = |c: &[f64]| {
            c.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v))
                - c.iter().fold(f64::INFINITY, |a, &v| a.min(v))
        };
        let global = span(&grid.lon) >= 300.0 && span(&grid.lat) >= 100.0;
        match self.range {
            Some(r) => r,
            None if global && !self.anomaly => (-2.0, 30.0),
            None => render::robust_range(values, self.anomaly).unwrap_or((-2.0, 30.0)),
        }
    }

    /// The grid covers the globe (at least 300 degrees of longitude and 100 of latitude).
    fn is_global(grid: &LatLon) -> bool {
        let span = |c: &[f64]| {
            c.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v))
                - c.iter().fold(f64::INFINITY, |a, &v| a.min(v))
        };
        span(&grid.lon) >= 300.0 && span(&grid.lat) >= 100.0
    }

    /// The units label of a map of the field itself.
    fn units(&self) -> String {
        let what = if self.anomaly {
            "Sea surface temperature anomaly"
        } else {
            "Sea surface temperature"
        };
        format!("{what} (°C)")
    }
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

/// A map of the field `values` (forecast or observed) titled `title`.
fn field_map(grid: &LatLon, values: &[f32], title: String, l: &Labels) -> HeatmapStyle {
    let (vmin, vmax) = l.maps.range(grid, values);
    HeatmapStyle {
        title,
        units_label: l.maps.units(),
        vmin,
        vmax,
        height: hindcast::map_height(grid),
        coastlines: l.maps.coastlines.clone(),
        ..HeatmapStyle::default()
    }
}

/// The forecast map.
pub fn forecast_map(fc: &Forecast, l: &Labels) -> Result<Vec<u8>, RenderError> {
    let mean = fc.mean_over_leads();
    let title = format!(
        "{} sea surface temperature forecast, {} (sstcast)",
        l.product,
        span_label(fc)
    );
    let style = field_map(&fc.grid, &mean, title, l);
    render::render_heatmap(&fc.grid.lat, &fc.grid.lon, &mean, &style)
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

/// The observed mean map, same style as the forecast map (and the forecast's colour range,
/// so the two compare side by side).
pub fn observed_map(fc: &Forecast, obs: &[f32], l: &Labels) -> Result<Vec<u8>, RenderError> {
    let title = format!(
        "{} sea surface temperature, observed, {}",
        l.product,
        span_label(fc)
    );
    let style = field_map(&fc.grid, &fc.mean_over_leads(), title, l);
    render::render_heatmap(&fc.grid.lat, &fc.grid.lon, obs, &style)
}

/// Forecast minus observed (mean over the leads), diverging colours centred on 0.
pub fn error_map(fc: &Forecast, obs: &[f32], l: &Labels) -> Result<Vec<u8>, RenderError> {
    let err: Vec<f32> = fc
        .mean_over_leads()
        .iter()
        .zip(obs)
        .map(|(f, o)| f - o)
        .collect();
    // -2..2 on a global map (the original scale); a regional one fits its errors, centred.
    let (vmin, vmax) = match Maps::is_global(&fc.grid) {
        true => (-2.0, 2.0),
        false => render::robust_range(&err, true).unwrap_or((-2.0, 2.0)),
    };
    let style = HeatmapStyle {
        title: format!(
            "Forecast minus observed, {} ({}, sstcast)",
            span_label(fc),
            l.product
        ),
        units_label: "Forecast error (°C)".into(),
        vmin,
        vmax,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        height: hindcast::map_height(&fc.grid),
        coastlines: l.maps.coastlines.clone(),
        ..HeatmapStyle::default()
    };
    render::render_heatmap(&fc.grid.lat, &fc.grid.lon, &err, &style)
}

/// Per region: the model's RMSE averaged over the verified leads, over that of the best
/// reference (the one with the lowest average). Why averages and not a mean of per-lead
/// ratios: at a single lead the best of three references is often lucky, and ratios to it
/// are skewed upward (in the 2018 hindcast most of the ocean sat at 1.5 or more, the top of
/// the scale, while the model's global RMSE was within 1% of damped persistence's).
pub fn skill_map(fc: &Forecast, skill: &SkillReport, l: &Labels) -> Result<Vec<u8>, RenderError> {
    let average = |id: &str, m: Method| -> Option<f64> {
        let v: Vec<f64> = (1..=skill.leads)
            .filter_map(|k| skill.get(id, &k.to_string(), m).map(|s| s.rmse))
            .collect();
        (!v.is_empty() && v.len() == skill.leads).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let ratio: Vec<f64> = fc
        .regions
        .iter()
        .map(|r| {
            let best = Method::REFERENCES
                .iter()
                .filter_map(|&m| average(&r.id, m))
                .min_by(f64::total_cmp);
            match (average(&r.id, Method::Model), best) {
                (Some(m), Some(best)) if best > 0.0 => m / best,
                _ => f64::NAN,
            }
        })
        .collect();
    let title = format!(
        "Model RMSE / best reference RMSE per region, {} (below 1: model better)",
        l.year
    );
    let units = "RMSE ratio (model / best reference: clim., pers., damped, seasonal damped, LIM)";
    let height = hindcast::map_height(&fc.grid);
    let coast = l.maps.coastlines.clone();
    ratio_map(
        &fc.grid,
        &fc.regions,
        &ratio,
        None,
        (title, units),
        (height, coast),
    )
}

/// Each region's cells coloured by its `ratio` (NaN: left as land; a later region overrides
/// an earlier one on shared cells) on a diverging scale 0.5..1.5 centred on 1, land grey;
/// the cells of regions flagged in `hatched` hatched. The skill maps of a forecast and of a
/// hindcast.
fn ratio_map(
    grid: &LatLon,
    regions: &[Region],
    ratio: &[f64],
    hatched: Option<&[bool]>,
    (title, units_label): (String, &str),
    (height, coastlines): (u32, Option<Arc<Polylines>>),
) -> Result<Vec<u8>, RenderError> {
    let mut cells = vec![f32::NAN; grid.ncells()];
    let mut hatch = vec![false; grid.ncells()];
    for (i, (r, &v)) in regions.iter().zip(ratio).enumerate() {
        if v.is_finite() {
            for &c in &r.cells {
                cells[c] = v as f32;
                hatch[c] = hatched.is_some_and(|h| h[i]);
            }
        }
    }
    let style = HeatmapStyle {
        title,
        units_label: units_label.into(),
        vmin: 0.5,
        vmax: 1.5,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        height,
        coastlines,
        ..HeatmapStyle::default()
    };
    match hatched {
        None => render::render_heatmap(&grid.lat, &grid.lon, &cells, &style),
        Some(_) => render::render_heatmap_hatched(&grid.lat, &grid.lon, &cells, &hatch, &style),
    }
}

/// Fractional year of the middle of a period, for time axes.
pub fn year_of(p: Period, freq: Frequency) -> f64 {
    let (y, m) = p.year_month(freq);
    match freq {
        Frequency::Monthly => y as f64 + (m as f64 - 0.5) / 12.0,
        Frequency::Annual => y as f64 + 0.5,
    }
}

/// Area-weighted mean of `map` over `cells` (NaN if none valid).
pub fn region_mean(map: &[f32], cells: &[usize], w: &[f64]) -> f64 {
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
pub fn series(cube: &Cube, fc: &Forecast, r: &Region, l: &Labels) -> Result<Vec<u8>, RenderError> {
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
        ..Series::default()
    });
    let first_year = cube.start.year_month(cube.freq).0;
    let last_year = Period(fc.first.0 + fc.horizon as i64 - 1)
        .year_month(fc.freq)
        .0;
    let ticks = year_ticks(first_year, last_year);
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
    render::render_lines(&s, &style)
}

/// Ticks at whole years from `first` to `last + 1`, about ten of them.
fn year_ticks(first: i64, last: i64) -> Vec<(f64, String)> {
    let step = ((last - first) / 10).max(1);
    (first..=last + 1)
        .step_by(step as usize)
        .map(|y| (y as f64, y.to_string()))
        .collect()
}

/// The loss figure of one region (first ensemble member).
pub fn loss(id: &str, r: &FitRecord) -> Result<Vec<u8>, RenderError> {
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
    render::render_lines(&s, &style)
}

/// Every figure of a run on a small synthetic forecast, pinned by the FNV-1a hash and length
/// of its PNG bytes (recorded when issue 14 moved `render` onto `tiny-skia`; the images
/// looked at). The drawing itself is pinned by `tests/render_golden.rs`; this adds the figures' own choices (titles, styles, the
/// series and averages they plot). When a figure is changed on purpose, record the new
/// values printed by the failure in the same commit.
#[cfg(test)]
mod golden {
    use super::*;
    use crate::hash::fnv1a;

    /// 10-degree global grid, monthly 2000-01..2018-12, a seasonal cycle and a trend, land
    /// in one box; a 2018 forecast (12 leads) that is the observations plus a bias.
    fn fixture() -> (Cube, Forecast) {
        let lat: Vec<f64> = (0..18).map(|i| 85.0 - 10.0 * i as f64).collect();
        let lon: Vec<f64> = (0..36).map(|j| -175.0 + 10.0 * j as f64).collect();
        let grid = LatLon { lat, lon };
        let start = Period::month(2000, 1);
        let steps = 19 * 12;
        let mut values = Vec::with_capacity(steps * grid.ncells());
        for t in 0..steps {
            for &la in &grid.lat {
                for &lo in &grid.lon {
                    let land = (10.0..=50.0).contains(&la) && (0.0..=60.0).contains(&lo);
                    let season = (t as f64 * std::f64::consts::TAU / 12.0).sin() * la / 30.0;
                    let v = 28.0 * la.to_radians().cos() - 1.0
                        + season
                        + 0.01 * t as f64
                        + 0.3 * (lo.to_radians() * 2.0 + t as f64 * 0.7).sin();
                    values.push(if land { f32::NAN } else { v as f32 });
                }
            }
        }
        let cube = Cube {
            grid: grid.clone(),
            freq: Frequency::Monthly,
            start,
            values,
            variable: "sst".into(),
        };
        let first = Period::month(2018, 1);
        let t0 = cube.index_of(first).unwrap();
        let n = grid.ncells();
        let fc_values: Vec<f32> = (0..12)
            .flat_map(|k| {
                cube.step(t0 + k)
                    .iter()
                    .enumerate()
                    .map(move |(c, &v)| v + 0.2 * ((c + k) % 7) as f32 - 0.5)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(fc_values.len(), 12 * n);
        let ocean = |cells: std::ops::Range<usize>| -> Vec<usize> {
            cells.filter(|&c| cube.step(0)[c].is_finite()).collect()
        };
        let regions = vec![
            Region {
                id: "north".into(),
                cells: ocean(0..n / 2),
            },
            Region {
                id: "south".into(),
                cells: ocean(n / 2..n),
            },
        ];
        let fc = Forecast {
            grid,
            freq: Frequency::Monthly,
            first,
            horizon: 12,
            values: fc_values,
            regions,
        };
        (cube, fc)
    }

    #[test]
    fn colour_ranges_fit_the_field() {
        let grid = |lat: Vec<f64>, lon: Vec<f64>| LatLon { lat, lon };
        let steps = |a: f64, d: f64, n: usize| (0..n).map(|i| a + d * i as f64).collect();
        let global = grid(steps(-88.0, 2.0, 89), steps(0.0, 2.0, 180));
        let iceland = grid(steps(55.5, 1.0, 15), steps(-40.5, 1.0, 40));
        let field: Vec<f32> = (0..600).map(|i| 3.0 + 7.0 * (i as f32 / 599.0)).collect();
        let maps = Maps::default();
        assert_eq!(maps.range(&global, &field), (-2.0, 30.0));
        assert_eq!(maps.range(&iceland, &field), (3.0, 10.0));
        let anomaly = Maps {
            anomaly: true,
            ..Maps::default()
        };
        let anom: Vec<f32> = field.iter().map(|v| (v - 6.0) / 4.0).collect();
        let (lo, hi) = anomaly.range(&global, &anom);
        assert!(lo == -hi && hi < 2.0, "{lo} {hi}");
        let fixed = Maps {
            range: Some((0.0, 12.0)),
            ..Maps::default()
        };
        assert_eq!(fixed.range(&iceland, &field), (0.0, 12.0));
    }

    #[test]
    fn figures_are_byte_identical() {
        let (cube, fc) = fixture();
        let l = Labels {
            product: "Synthetic SST".into(),
            year: 2018,
            maps: Maps::default(),
        };
        let obs = observed_mean(&cube, &fc).unwrap();
        let skill = crate::verify::evaluate(&cube, 18 * 12, &fc, 2018).unwrap();
        let record = FitRecord {
            losses: (0..30)
                .map(|e| 0.5 * (-(e as f32) / 8.0).exp() + 0.01)
                .collect(),
            val_losses: (0..31)
                .map(|e| 0.6 * (-(e as f32) / 10.0).exp() + 0.03)
                .collect(),
            best_epochs: vec![17, 20],
            models: Vec::new(),
        };
        let got = [
            ("forecast_map", forecast_map(&fc, &l)),
            ("observed_map", observed_map(&fc, &obs, &l)),
            ("error_map", error_map(&fc, &obs, &l)),
            ("skill_map", skill_map(&fc, &skill, &l)),
            ("series", series(&cube, &fc, &fc.regions[0], &l)),
            ("loss", loss("north", &record)),
        ];
        let want: [(&str, u64, usize); 6] = [
            ("forecast_map", 0x4e8bd397b8509214, 141768),
            ("observed_map", 0x42beb054a2c96975, 113943),
            ("error_map", 0xa96fa01fa9758737, 57478),
            ("skill_map", 0xb0aaa09479ddeaf9, 63953),
            ("series", 0x1f2c062dd92ff2cc, 145492),
            ("loss", 0x88ea867b23bf0dba, 73254),
        ];
        assert_golden(&got, &want, "");
    }

    /// Compare figures (`name`, PNG bytes) with the recorded `(name, FNV-1a, length)`; the
    /// failure prints the new table. With `SSTCAST_GOLDEN_DIR` set, each figure is also
    /// written there as `<prefix><name>.png`, to be looked at.
    pub(super) fn assert_golden(
        got: &[(&str, Result<Vec<u8>, RenderError>)],
        want: &[(&str, u64, usize)],
        prefix: &str,
    ) {
        let keep = std::env::var_os("SSTCAST_GOLDEN_DIR").map(std::path::PathBuf::from);
        let got: Vec<(&str, u64, usize)> = got
            .iter()
            .map(|(n, b)| {
                let b = b.as_ref().unwrap();
                if let Some(dir) = &keep {
                    std::fs::create_dir_all(dir).unwrap();
                    std::fs::write(dir.join(format!("{prefix}{n}.png")), b).unwrap();
                }
                (*n, fnv1a(b), b.len())
            })
            .collect();
        let table: String = got
            .iter()
            .map(|(n, h, l)| format!("    ({n:?}, 0x{h:016x}, {l}),\n"))
            .collect();
        assert!(got == want, "figures changed; now:\n{table}");
    }
}
