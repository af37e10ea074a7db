//! Global and regional maps (matplotlib `pcolormesh` + `contour` + `colorbar` look-alike),
//! drawn on the `tiny-skia` canvas and encoded as PNG.
//!
//! Why this design:
//! * Speed: the map area (~700k pixels) is filled by looking up, for every pixel column and
//!   row, which grid cell it falls in (precomputed once per column/row) and copying that
//!   cell's colour: exact for non-uniform grids, O(pixels), and far faster than filling
//!   ~16k rectangles as paths. Only the lines over the cells go through `tiny-skia`.
//! * Look: cells at their true extents (edges halfway between centres, outer edges half a
//!   cell beyond the outer centres, latitudes clamped to +-90), north up, equal aspect in
//!   degrees (plate carree); thin anti-aliased black contours, with their levels marked
//!   across the colorbar (matplotlib's `colorbar.add_lines`), so a reader can tell 5 from
//!   8 degC; optional coastlines over the field; tick labels such as `60°S` / `120°W` and a
//!   title in DejaVu Sans (embedded, no system fonts). Values are clipped to
//!   `[vmin, vmax]` for colouring; NaN cells take `missing_color` (white by default).
//! * Text, frame and ticks are those of the line charts ([`super::text`], [`super::axes`]):
//!   the map and the colorbar are two framed `Axes`.
//! * Periodic longitudes: when the cell edges span exactly 360 degrees the grid is periodic:
//!   the x-axis covers 360 degrees from a round value (a 2-degree grid with centres
//!   -180..178 is shown over -180..180, the sliver beyond 179 being the wrapped -180 cell),
//!   and contours continue across the dateline. Other grids span exactly their cell edges.
//! * Contour levels: matplotlib's `plt.contour(z, n)` choice (`MaxNLocator(n + 1)` "nice"
//!   levels strictly inside the data's range), those inside `[vmin, vmax]`: they follow
//!   the data and a fitted colour range ([`robust_range`]).
//! * Lines over the cells (contours, coastlines, hatching): the private `overlay` module.
//! * Output is the PNG's bytes; the caller writes them (see [`super`]).

use super::axes::{place, Axes, Metrics};
use super::canvas::{Canvas, BLACK, WHITE};
use super::colormap::Colormap;
use super::text::{Font, LabelFont};
use super::ticks::{
    contour_levels, degree_ticks, fmt_num, lat_label, linear_ticks, lon_label, nice_step,
    nice_ticks, Tick,
};
use super::RenderError;
use std::sync::Arc;

mod overlay;
pub use overlay::{split_coastlines, COAST, COAST_WIDTH};

/// Appearance of a heatmap figure.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapStyle {
    /// Figure title, centred above the map.
    pub title: String,
    /// Colorbar label, e.g. `"Sea surface temperature (°C)"`.
    pub units_label: String,
    /// Value mapped to the first colour; smaller values are clipped.
    pub vmin: f32,
    /// Value mapped to the last colour; larger values are clipped.
    pub vmax: f32,
    /// Requested number of contour lines (0 = none); levels as `plt.contour(z, n)`.
    pub contours: usize,
    /// Colour table used for the cells and the colorbar.
    pub colormap: Colormap,
    /// Figure width in pixels.
    pub width: u32,
    /// Figure height in pixels.
    pub height: u32,
    /// Colour of NaN (land/missing) cells: white by default, as in the original figure; a
    /// light grey on diverging maps, where white means "zero".
    pub missing_color: [u8; 3],
    /// Longitude/latitude polylines drawn over the field (coastlines), any longitude
    /// convention; `None` = none.
    pub coastlines: Option<Arc<Polylines>>,
}

/// Polylines in degrees: `(longitude, latitude)` points.
pub type Polylines = Vec<Vec<(f64, f64)>>;

/// Light grey for land on diverging maps.
pub const LAND_GREY: [u8; 3] = [200, 200, 200];

impl Default for HeatmapStyle {
    fn default() -> Self {
        Self {
            title: String::new(),
            units_label: "Sea surface temperature (°C)".to_string(),
            vmin: -2.0,
            vmax: 30.0,
            contours: 15,
            colormap: Colormap::Coolwarm,
            width: 1400,
            height: 750,
            missing_color: WHITE,
            coastlines: None,
        }
    }
}

/// Render `values` on the (`lat`, `lon`) cell-centre grid; returns the PNG's bytes.
///
/// `lat`: cell-centre latitudes, strictly monotonic (either direction);
/// `lon`: cell-centre longitudes, strictly increasing;
/// `values`: row-major `[lat][lon]`, NaN = land/missing (`missing_color`, no contours).
pub fn render_heatmap(
    lat: &[f64],
    lon: &[f64],
    values: &[f32],
    style: &HeatmapStyle,
) -> Result<Vec<u8>, RenderError> {
    let canvas = render_canvas(lat, lon, values, None, style)?;
    canvas
        .encode_png()
        .map_err(|message| RenderError::Draw { message })
}

/// [`render_heatmap`] with the cells where `hatched` (same layout as `values`) covered by
/// thin diagonal hatching (matplotlib `hatch="///"`) over their colour, e.g. to mark values
/// that are not significant while still showing them.
pub fn render_heatmap_hatched(
    lat: &[f64],
    lon: &[f64],
    values: &[f32],
    hatched: &[bool],
    style: &HeatmapStyle,
) -> Result<Vec<u8>, RenderError> {
    if hatched.len() != values.len() {
        return Err(RenderError::Draw {
            message: format!(
                "{} hatching flags for {} values",
                hatched.len(),
                values.len()
            ),
        });
    }
    let canvas = render_canvas(lat, lon, values, Some(hatched), style)?;
    canvas
        .encode_png()
        .map_err(|message| RenderError::Draw { message })
}

/// Reference figure size the pixel sizes below are tuned for.
const REF_W: f64 = 1400.0;
const REF_H: f64 = 750.0;

/// Cell geometry of one axis: ascending edges plus the index mapping back to
/// the caller's order.
struct AxisCells {
    /// `n + 1` ascending edges.
    edges: Vec<f64>,
    /// The caller's centres were decreasing.
    reversed: bool,
}

impl AxisCells {
    fn new(centres: &[f64], name: &str, allow_decreasing: bool) -> Result<Self, String> {
        let n = centres.len();
        if n < 2 {
            return Err(format!("{name} needs at least 2 cell centres, got {n}"));
        }
        if let Some(c) = centres.iter().find(|c| !c.is_finite()) {
            return Err(format!("{name} contains a non-finite value {c}"));
        }
        let increasing = centres.windows(2).all(|w| w[1] > w[0]);
        let decreasing = centres.windows(2).all(|w| w[1] < w[0]);
        if !(increasing || (allow_decreasing && decreasing)) {
            let want = if allow_decreasing {
                "strictly monotonic"
            } else {
                "strictly increasing"
            };
            return Err(format!("{name} is not {want}"));
        }
        let mut c: Vec<f64> = centres.to_vec();
        if decreasing {
            c.reverse();
        }
        let mut edges = Vec::with_capacity(n + 1);
        edges.push(c[0] - (c[1] - c[0]) / 2.0);
        edges.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
        edges.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
        Ok(Self {
            edges,
            reversed: decreasing,
        })
    }

    fn n(&self) -> usize {
        self.edges.len() - 1
    }

    /// Caller's index of the cell containing `v` (clamped to the grid).
    fn cell_of(&self, v: f64) -> usize {
        let k = self.edges.partition_point(|&e| e <= v).saturating_sub(1);
        let k = k.min(self.n() - 1);
        if self.reversed {
            self.n() - 1 - k
        } else {
            k
        }
    }
}

/// The part of the plane the map shows, in degrees.
struct Extent {
    /// West and east edges.
    x0: f64,
    x1: f64,
    /// South and north edges.
    y0: f64,
    y1: f64,
    dx: f64,
    dy: f64,
    /// The longitudes wrap around the globe.
    periodic: bool,
    /// The grid's own west edge (the periodic view may start elsewhere).
    e0: f64,
}

impl Extent {
    /// Figure pixel of the point at longitude `x`, latitude `y` on the map laid out by `lay`.
    fn to_px(&self, lay: &Layout, x: f64, y: f64) -> (f64, f64) {
        let px = lay.x0 as f64 + (x - self.x0) / self.dx * lay.mw as f64;
        (px, lay.y0 as f64 + (self.y1 - y) / self.dy * lay.mh as f64)
    }

    fn of(xcells: &AxisCells, ycells: &AxisCells) -> Result<Self, String> {
        let (nlat, nlon) = (ycells.n(), xcells.n());
        let e0 = xcells.edges[0];
        let first_w = xcells.edges[1] - e0;
        let span = xcells.edges[nlon] - e0;
        let periodic = (span - 360.0).abs() < 1e-6 * 360.0;
        let (x0, x1) = if periodic {
            let round = (e0 / 30.0).round() * 30.0;
            let start = if (round - e0).abs() <= first_w {
                round
            } else {
                e0
            };
            (start, start + 360.0)
        } else {
            (e0, xcells.edges[nlon])
        };
        let y0 = ycells.edges[0].max(-90.0);
        let y1 = ycells.edges[nlat].min(90.0);
        if y1 <= y0 {
            return Err("latitudes lie outside -90..90".to_string());
        }
        Ok(Self {
            x0,
            x1,
            y0,
            y1,
            dx: x1 - x0,
            dy: y1 - y0,
            periodic,
            e0,
        })
    }
}

/// Where everything goes, and the fonts and ticks decided along the way.
struct Layout {
    m: Metrics,
    tick_text: LabelFont,
    title_font: Font,
    /// The map rectangle (inside its frame).
    x0: i32,
    y0: i32,
    mw: i32,
    mh: i32,
    /// Gap between the map and the colorbar, colorbar width.
    cb_gap: i32,
    cb_w: i32,
    /// Widest colorbar tick label that may occur (the units label goes beyond it).
    max_cb_w: i32,
    lon_ticks: Vec<Tick>,
    lat_ticks: Vec<Tick>,
}

/// Most colorbar tick intervals (matplotlib's `MaxNLocator('auto')` limit).
const CB_NBINS_MAX: usize = 9;

impl Layout {
    fn new(style: &HeatmapStyle, ext: &Extent) -> Result<Self, String> {
        let (w, h) = (style.width, style.height);
        let (vmin, vmax) = (style.vmin as f64, style.vmax as f64);
        let m = Metrics::new(w, h, (REF_W, REF_H));
        let (lw, tick_len, pad, outer) = (m.lw, m.tick_len, m.pad, m.outer);
        let tick_text = LabelFont::new(14.0 * m.kt)?;
        let tick_font = &tick_text.font;
        let title_font = Font::new(17.0 * m.kt)?;

        let lon_ticks = degree_ticks(ext.x0, ext.x1, 7, lon_label);
        let lat_ticks = degree_ticks(ext.y0, ext.y1, 7, lat_label);
        let max_lat_w = lat_ticks
            .iter()
            .map(|t| tick_font.width(&t.label).ceil() as i32)
            .max()
            .unwrap_or(0);

        // Colorbar ticks depend on its height, which depends on the layout; the
        // label widths are estimated with the widest plausible tick set.
        let cb_est: Vec<f64> = nice_ticks(vmin, vmax, CB_NBINS_MAX);
        let cb_est_step = nice_step(vmin, vmax, CB_NBINS_MAX);
        let max_cb_w = cb_est
            .iter()
            .map(|&v| tick_font.width(&fmt_num(v, cb_est_step)).ceil() as i32)
            .max()
            .unwrap_or(0);
        let cb_gap = m.px(25.0);
        let cb_w = m.px(22.0);
        let label_thick = if style.units_label.is_empty() {
            0
        } else {
            (tick_font.em * 1.2).round() as i32
        };

        let left = outer + max_lat_w + pad + tick_len + lw;
        let right =
            lw + cb_gap + cb_w + lw + tick_len + pad + max_cb_w + m.px(10.0) + label_thick + outer;
        let top = if style.title.is_empty() {
            outer
        } else {
            outer + (title_font.em * 1.2).round() as i32 + m.px(8.0)
        };
        let bottom = lw + tick_len + pad + tick_font.cap().ceil() as i32 + outer;
        let avail_w = w as i32 - left - right;
        let avail_h = h as i32 - top - bottom;
        if avail_w < 32 || avail_h < 16 {
            return Err(format!("figure {w} x {h} is too small for the axes"));
        }
        // Equal aspect in degrees (plate carree), centred in the free space.
        let ppd = (avail_w as f64 / ext.dx).min(avail_h as f64 / ext.dy);
        let mw = ((ext.dx * ppd).round() as i32).clamp(1, avail_w);
        let mh = ((ext.dy * ppd).round() as i32).clamp(1, avail_h);
        Ok(Self {
            m,
            tick_text,
            title_font,
            x0: left + (avail_w - mw) / 2,
            y0: top + (avail_h - mh) / 2,
            mw,
            mh,
            cb_gap,
            cb_w,
            max_cb_w,
            lon_ticks,
            lat_ticks,
        })
    }

    /// The map rectangle `[x0, y0, x1, y1]` in figure pixels.
    fn rect(&self) -> [f64; 4] {
        let (x0, y0) = (self.x0 as f64, self.y0 as f64);
        [x0, y0, x0 + self.mw as f64, y0 + self.mh as f64]
    }

    /// The map rectangle as axes.
    fn map(&self) -> Axes<'_> {
        Axes {
            x0: self.x0,
            y0: self.y0,
            w: self.mw,
            h: self.mh,
            m: &self.m,
            font: &self.tick_text,
        }
    }

    /// The colorbar rectangle as axes.
    fn colorbar(&self) -> Axes<'_> {
        Axes {
            x0: self.x0 + self.mw + self.m.lw + self.cb_gap,
            w: self.cb_w,
            ..self.map()
        }
    }
}

fn render_canvas(
    lat: &[f64],
    lon: &[f64],
    values: &[f32],
    hatched: Option<&[bool]>,
    style: &HeatmapStyle,
) -> Result<Canvas, RenderError> {
    let (nlat, nlon) = (lat.len(), lon.len());
    if values.len() != nlat * nlon {
        return Err(RenderError::Shape {
            nlat,
            nlon,
            actual: values.len(),
        });
    }
    let draw_err = |message: String| RenderError::Draw { message };
    let (vmin, vmax) = (style.vmin as f64, style.vmax as f64);
    if !(vmin.is_finite() && vmax.is_finite() && vmin < vmax) {
        return Err(draw_err(format!(
            "need finite vmin < vmax, got {vmin} and {vmax}"
        )));
    }
    let (w, h) = (style.width, style.height);
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err(draw_err(format!("unsupported figure size {w} x {h}")));
    }
    let ycells = AxisCells::new(lat, "lat", true).map_err(draw_err)?;
    let xcells = AxisCells::new(lon, "lon", false).map_err(draw_err)?;
    let ext = Extent::of(&xcells, &ycells).map_err(draw_err)?;
    let lay = Layout::new(style, &ext).map_err(draw_err)?;

    let mut cv = Canvas::new(w, h);
    let cells = PixelCells::new(&ext, &xcells, &ycells, &lay);
    fill_cells(&mut cv, values, style, &cells, &lay);
    if let Some(hatched) = hatched {
        overlay::hatch_cells(&mut cv, hatched, &cells, &lay);
    }
    let levels = levels(values, style);
    overlay::draw_contours(&mut cv, (lat, lon), values, &levels, &ext, &lay);
    if let Some(coast) = &style.coastlines {
        overlay::draw_coastlines(&mut cv, coast, &ext, &lay);
    }
    draw_map_axes(&mut cv, &ext, &lay);
    draw_colorbar(&mut cv, style, &lay, &levels);
    if !style.title.is_empty() {
        let map = lay.map();
        map.title(&mut cv, &lay.title_font, &style.title, f64::NEG_INFINITY);
    }
    Ok(cv)
}

/// A colour range fitted to a field: the 2nd and 98th percentiles of its finite values
/// (robust to a few extreme cells), symmetric about 0 when `centred` (anomalies,
/// differences), rounded outward to a "nice" step of about 8 colorbar intervals. `None`
/// when the field has no spread.
pub fn robust_range(values: &[f32], centred: bool) -> Option<(f32, f32)> {
    let mut v: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f32::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize] as f64;
    let (mut lo, mut hi) = (q(0.02), q(0.98));
    if centred {
        let m = lo.abs().max(hi.abs());
        (lo, hi) = (-m, m);
    }
    if hi <= lo {
        return None;
    }
    let step = nice_step(lo, hi, 8);
    Some((
        ((lo / step).floor() * step) as f32,
        ((hi / step).ceil() * step) as f32,
    ))
}

/// The contour levels of a map: `style.contours` lines over the finite data's range
/// (matplotlib's `plt.contour(z, n)` choice), those inside the colour range.
fn levels(values: &[f32], style: &HeatmapStyle) -> Vec<f64> {
    let (zmin, zmax) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v as f64), b.max(v as f64))
        });
    let (lo, hi) = (style.vmin as f64, style.vmax as f64);
    let mut levels = contour_levels(zmin, zmax, style.contours);
    levels.retain(|&l| l > lo && l < hi);
    levels
}

/// The grid cell under each pixel column and row of the map rectangle.
struct PixelCells {
    /// Longitude index per pixel column.
    col: Vec<usize>,
    /// Latitude index (the caller's order) per pixel row.
    row: Vec<usize>,
    nlon: usize,
}

impl PixelCells {
    fn new(ext: &Extent, xcells: &AxisCells, ycells: &AxisCells, lay: &Layout) -> Self {
        let (mw, mh) = (lay.mw, lay.mh);
        let col = (0..mw)
            .map(|i| {
                let mut l = ext.x0 + (i as f64 + 0.5) * ext.dx / mw as f64;
                if ext.periodic {
                    l = ext.e0 + (l - ext.e0).rem_euclid(360.0);
                }
                xcells.cell_of(l)
            })
            .collect();
        let row = (0..mh)
            .map(|r| ycells.cell_of(ext.y1 - (r as f64 + 0.5) * ext.dy / mh as f64))
            .collect();
        Self {
            col,
            row,
            nlon: xcells.n(),
        }
    }
}

/// Fill the map rectangle with the cells' colours.
fn fill_cells(
    cv: &mut Canvas,
    values: &[f32],
    style: &HeatmapStyle,
    cells: &PixelCells,
    lay: &Layout,
) {
    let (vmin, vmax) = (style.vmin as f64, style.vmax as f64);
    let (x0, y0, mw) = (lay.x0, lay.y0, lay.mw);
    let nlon = cells.nlon;
    let colours: Vec<[u8; 4]> = values
        .iter()
        .map(|&v| {
            let [r, g, b] = if v.is_finite() {
                let t = ((v as f64 - vmin) / (vmax - vmin)).clamp(0.0, 1.0);
                style.colormap.rgb(t as f32)
            } else {
                style.missing_color
            };
            [r, g, b, 255]
        })
        .collect();
    // Consecutive pixel rows in the same grid row are identical: each grid
    // row is drawn once and copied.
    let row_bytes = mw as usize * 4;
    let (w, px) = (cv.w, cv.pm.data_mut());
    let mut prev: Option<(usize, usize)> = None; // (grid row, start of its pixels)
    for (r, &i) in cells.row.iter().enumerate() {
        let start = (((y0 + r as i32) * w + x0) * 4) as usize;
        match prev {
            Some((pi, pstart)) if pi == i => {
                px.copy_within(pstart..pstart + row_bytes, start);
            }
            _ => {
                let row_colours = &colours[i * nlon..][..nlon];
                let line = &mut px[start..start + row_bytes];
                for (p, &j) in line.chunks_exact_mut(4).zip(&cells.col) {
                    p.copy_from_slice(&row_colours[j]);
                }
                prev = Some((i, start));
            }
        }
    }
}

/// The map's frame, longitude ticks below and latitude ticks left.
fn draw_map_axes(cv: &mut Canvas, ext: &Extent, lay: &Layout) {
    let map = lay.map();
    map.frame(cv);
    let (x0, y0, mw, mh) = (lay.x0, lay.y0, lay.mw, lay.mh);
    let lon = place(&lay.lon_ticks, |v| {
        x0 as f64 + (v - ext.x0) / ext.dx * mw as f64
    });
    map.bottom_ticks(cv, &lon, None);
    let lat = place(&lay.lat_ticks, |v| {
        y0 as f64 + (ext.y1 - v) / ext.dy * mh as f64
    });
    map.left_ticks(cv, &lat);
}

/// The colorbar: colour ramp, frame, ticks and the units label.
fn draw_colorbar(cv: &mut Canvas, style: &HeatmapStyle, lay: &Layout, levels: &[f64]) {
    let (vmin, vmax) = (style.vmin as f64, style.vmax as f64);
    let bar = lay.colorbar();
    let (cx0, y0, cb_w, mh) = (bar.x0, bar.y0, bar.w, bar.h);
    let lut = style.colormap.lut();
    for r in 0..mh {
        let t = 1.0 - (r as f64 + 0.5) / mh as f64;
        let c = lut[((t * 256.0).floor() as usize).min(255)];
        cv.fill_rect(cx0, y0 + r, cx0 + cb_w, y0 + r + 1, c);
    }
    // The contour levels as lines across the bar (matplotlib's `colorbar.add_lines`).
    for &l in levels.iter().filter(|&&l| l > vmin && l < vmax) {
        let r = (y0 as f64 + (vmax - l) / (vmax - vmin) * mh as f64 - 0.5).round() as i32;
        cv.fill_rect(cx0, r, cx0 + cb_w, r + 1, BLACK);
    }
    bar.frame(cv);
    // matplotlib: MaxNLocator('auto') with nbins = axis length / (2 * font size), at most 9.
    let tick_font = &lay.tick_text.font;
    let cb_nbins = ((mh as f64 / (2.0 * tick_font.em)) as usize).clamp(1, CB_NBINS_MAX);
    let ticks = linear_ticks(vmin, vmax, cb_nbins);
    let placed = place(&ticks, |v| {
        y0 as f64 + (vmax - v) / (vmax - vmin) * mh as f64
    });
    bar.right_ticks(cv, &placed);
    if !style.units_label.is_empty() {
        // Rotated 90 degrees, centred on the colorbar, glyph tops facing it.
        let m = &lay.m;
        let cb_right = cx0 + cb_w + m.lw;
        let left = cb_right + m.tick_len + m.pad + lay.max_cb_w + m.px(10.0);
        bar.rotated_label(cv, tick_font, &style.units_label, left as f64);
    }
}

#[cfg(test)]
mod tests;
