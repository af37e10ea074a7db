//! Line charts (matplotlib `plt.plot` + `legend` + `grid` look-alike) for
//! loss curves and time series, rendered on the `tiny-skia` canvas and encoded as PNG.
//!
//! Why this design:
//! * Same machinery and look as [`super::heatmap`]: frame and ticks snapped to whole pixels
//!   by the private `axes` module, DejaVu Sans text through `ab_glyph`, no plotting backend,
//!   Python or system font. The caller writes the bytes (see [`super`]).
//! * Everything inside the axes (bands, lines, the vertical marker) is drawn anti-aliased by
//!   `tiny-skia` on a transparent layer of the plot area's size, composited over the grid
//!   once: clipping to the axes comes for free, overlapping series stack in drawing order,
//!   and the layer's opacity is the "ink" the legend avoids. Joins are round; dashes follow
//!   matplotlib's scaled `--` pattern (3.7 on, 1.6 off, times the line width) with butt ends.
//! * Gaps: a point whose x or y is not finite (NaN), or whose y is `<= 0`
//!   on a log axis, is not drawn and splits the line. A point isolated
//!   between gaps is drawn as a dot of the line width (matplotlib would draw
//!   nothing, which hides data). Bands (`fill_between`, nonzero winding, so crossed
//!   bounds fill both lobes) split the same way; an isolated band point is an error bar.
//! * Axis ranges: x and linear y span the drawable data with 5% padding on
//!   each side (matplotlib's default margins); the x range also includes
//!   `vertical_line` (as `axvline` does). A log y axis spans whole decades
//!   covering the positive data (matplotlib's classic `round_numbers`).
//! * Ticks: numeric ticks are matplotlib's `MaxNLocator('auto')`, with as many bins as fit
//!   the axis length (label spacing >= 3 font sizes on x, 2 on y, at most 9), labelled with
//!   the decimals the step needs and a Unicode minus. Log ticks sit at every power of ten,
//!   labelled with superscripts (`10⁻³`), unlabelled minors at 2..9 x 10^k, the 2 and 5
//!   minors labelled when the axis spans at most two decades (the private `ticks` module).
//! * Legend: one entry per distinct (label, colour, dash) among series with a non-empty
//!   label, in the corner of the axes where it covers the least ink, preferring upper right,
//!   then upper left, lower left, lower right (matplotlib's `loc="best"`; `legend`).

use super::axes::{centred_text, place, Axes, Metrics};
use super::canvas::{polyline, Canvas, Pen};
use super::legend::{dash_pattern, draw_legend, Entry};
use super::text::{Font, LabelFont};
use super::ticks::{linear_ticks, log_ticks, Tick};
use super::RenderError;

/// matplotlib's default `tab10` colour cycle (`C0` .. `C9`).
pub const TAB10: [[u8; 3]; 10] = [
    [31, 119, 180],  // tab:blue
    [255, 127, 14],  // tab:orange
    [44, 160, 44],   // tab:green
    [214, 39, 40],   // tab:red
    [148, 103, 189], // tab:purple
    [140, 86, 75],   // tab:brown
    [227, 119, 194], // tab:pink
    [127, 127, 127], // tab:gray
    [188, 189, 34],  // tab:olive
    [23, 190, 207],  // tab:cyan
];

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; empty = not in the legend.
    pub label: String,
    /// X coordinates (any order; points are joined in the given order).
    pub x: Vec<f64>,
    /// Y coordinates, same length as `x`; NaN = gap.
    pub y: Vec<f64>,
    /// Line colour.
    pub color: [u8; 3],
    /// Dashed (matplotlib `--`) instead of solid.
    pub dashed: bool,
    /// Line width in pixels (matplotlib's default 1.5 pt at 100 dpi is ~2 px).
    pub width: f32,
    /// A shaded interval around the line (lower and upper per x), drawn under all lines.
    pub band: Option<Band>,
}

impl Default for Series {
    fn default() -> Self {
        Self {
            label: String::new(),
            x: Vec::new(),
            y: Vec::new(),
            color: TAB10[0],
            dashed: false,
            width: 2.0,
            band: None,
        }
    }
}

/// Appearance of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChartStyle {
    /// Figure title, centred above the axes.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label left of the y axis (rotated).
    pub y_label: String,
    /// Logarithmic (base 10) y axis, e.g. for loss curves.
    pub log_y: bool,
    /// Custom x tick positions (data units) and labels, e.g. years;
    /// `None` = automatic numeric ticks. Ticks outside the axis are dropped.
    pub x_ticks: Option<Vec<(f64, String)>>,
    /// A dashed grey vertical line at this x with a small label, e.g. the
    /// start of a forecast.
    pub vertical_line: Option<(f64, String)>,
    /// Figure width in pixels.
    pub width: u32,
    /// Figure height in pixels.
    pub height: u32,
}

impl Default for LineChartStyle {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            log_y: false,
            x_ticks: None,
            vertical_line: None,
            width: 1200,
            height: 600,
        }
    }
}

/// Render `series` as a line chart; returns the PNG's bytes.
///
/// Errors ([`RenderError::Chart`]) when `series` is empty, a series has
/// `x.len() != y.len()` or a non-positive/non-finite width, nothing is
/// drawable (no point with finite x and y, positive y on a log axis), the
/// figure size is outside 64..=8192 pixels or too small for the axes.
pub fn render_lines(series: &[Series], style: &LineChartStyle) -> Result<Vec<u8>, RenderError> {
    let err = |message: String| RenderError::Chart { message };
    let (cv, _) = render_canvas(series, style).map_err(err)?;
    cv.encode_png().map_err(err)
}

/// Grid lines.
const GRID: [u8; 3] = [221, 221, 221];
/// The vertical marker line and its label.
const MARKER: [u8; 3] = [128, 128, 128];
/// Reference figure size the pixel sizes below are tuned for.
const REF_W: f64 = 1200.0;
const REF_H: f64 = 600.0;
/// Fraction of the data range added on each side (matplotlib margins).
const MARGIN: f64 = 0.05;

/// One axis: the visible data range (log10 exponents when `log`).
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// Position of data value `v` along the axis, 0 at `lo`, 1 at `hi`.
    fn frac(&self, v: f64) -> f64 {
        let t = if self.log { v.log10() } else { v };
        (t - self.lo) / (self.hi - self.lo)
    }
}

/// Placement of the axes inside the figure, for tests and the legend.
#[derive(Debug, Clone)]
struct Frame {
    /// Left, top pixel of the plot area and its size (inside the frame).
    x0: i32,
    y0: i32,
    pw: i32,
    ph: i32,
    x: Axis,
    y: Axis,
    y_ticks: Vec<Tick>,
    /// Legend box (x, y, w, h) in figure pixels, if any.
    legend: Option<(i32, i32, i32, i32)>,
}

impl Frame {
    /// Plot-area-relative pixel coordinates of data point `(x, y)`.
    fn to_px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.x.frac(x) * self.pw as f64,
            (1.0 - self.y.frac(y)) * self.ph as f64,
        )
    }
}

/// `matplotlib.transforms.nonsingular`-like expansion of an empty range.
fn nonsingular(lo: f64, hi: f64) -> (f64, f64) {
    if hi - lo > 1e-12 * lo.abs().max(hi.abs()).max(1e-300) {
        (lo, hi)
    } else if lo == 0.0 {
        (-0.05, 0.05)
    } else {
        (lo - 0.05 * lo.abs(), hi + 0.05 * hi.abs())
    }
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = nonsingular(lo, hi);
    let m = (hi - lo) * MARGIN;
    (lo - m, hi + m)
}

/// Min and max of the finite values of an iterator.
fn min_max(it: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    it.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// Split a series into runs of drawable points (plot-area pixels).
fn runs(s: &Series, frame: &Frame) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (&x, &y) in s.x.iter().zip(&s.y) {
        if drawable(x, y, frame.y.log) {
            cur.push(frame.to_px(x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn drawable(x: f64, y: f64, log: bool) -> bool {
    x.is_finite() && y.is_finite() && (!log || y > 0.0)
}

/// Check the inputs; the error says what is wrong.
fn validate(series: &[Series], style: &LineChartStyle) -> Result<(), String> {
    if series.is_empty() {
        return Err("no series to plot".to_string());
    }
    for (i, s) in series.iter().enumerate() {
        if s.x.len() != s.y.len() {
            return Err(format!(
                "series {i} ({:?}) has {} x values but {} y values",
                s.label,
                s.x.len(),
                s.y.len()
            ));
        }
        if s.band.as_ref().is_some_and(|b| !b.alpha.is_finite()) {
            return Err(format!(
                "series {i} ({:?}) has a band of opacity NaN",
                s.label
            ));
        }
        if !(s.width.is_finite() && s.width > 0.0) {
            return Err(format!(
                "series {i} ({:?}) has invalid line width {}",
                s.label, s.width
            ));
        }
        if let Some(b) = &s.band {
            if b.lower.len() != s.x.len() || b.upper.len() != s.x.len() {
                return Err(format!(
                    "series {i} ({:?}) has {} x values but a band of {} lower and {} upper",
                    s.label,
                    s.x.len(),
                    b.lower.len(),
                    b.upper.len()
                ));
            }
        }
    }
    let (w, h) = (style.width, style.height);
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err(format!("unsupported figure size {w} x {h}"));
    }
    Ok(())
}

/// The x and y axis ranges covering the drawable data (and the vertical marker).
fn data_axes(series: &[Series], style: &LineChartStyle) -> Result<(Axis, Axis), String> {
    let log = style.log_y;
    let points = || {
        series
            .iter()
            .flat_map(|s| s.x.iter().zip(&s.y))
            .filter(|&(&x, &y)| drawable(x, y, log))
    };
    let what = if log {
        "no point with finite x and positive finite y (log y axis)"
    } else {
        "no point with finite x and y"
    };
    let (xmin, xmax) = min_max(points().map(|(&x, _)| x)).ok_or(what)?;
    let (ymin, ymax) = min_max(points().map(|(_, &y)| y)).ok_or(what)?;
    let bounds = series.iter().flat_map(|s| {
        s.band.iter().flat_map(|b| {
            let ok = |&(&x, &y): &(&f64, &f64)| drawable(x, y, log);
            let lower = s.x.iter().zip(&b.lower).filter(ok);
            lower.chain(s.x.iter().zip(&b.upper).filter(ok))
        })
    });
    let (ymin, ymax) = bounds.fold((ymin, ymax), |(a, b), (_, &y)| (a.min(y), b.max(y)));
    let (xmin, xmax) = match vertical_line(style) {
        Some(&(v, _)) => (xmin.min(v), xmax.max(v)),
        None => (xmin, xmax),
    };
    let (xlo, xhi) = padded(xmin, xmax);
    let xaxis = Axis {
        lo: xlo,
        hi: xhi,
        log: false,
    };
    let yaxis = if log {
        let lo = (ymin.log10() + 1e-9).floor();
        let mut hi = (ymax.log10() - 1e-9).ceil();
        if hi <= lo {
            hi = lo + 1.0;
        }
        Axis { lo, hi, log: true }
    } else {
        let (lo, hi) = padded(ymin, ymax);
        Axis { lo, hi, log: false }
    };
    Ok((xaxis, yaxis))
}

/// The vertical marker, when its position is finite.
fn vertical_line(style: &LineChartStyle) -> Option<&(f64, String)> {
    style.vertical_line.as_ref().filter(|(x, _)| x.is_finite())
}

/// Sizes, fonts, ticks and the plot area of a chart.
struct Layout {
    m: Metrics,
    tick_text: LabelFont,
    label_font: Font,
    title_font: Font,
    legend_font: Font,
    small_font: Font,
    x_ticks: Vec<Tick>,
    frame: Frame,
}

impl Layout {
    fn new(style: &LineChartStyle, xaxis: Axis, yaxis: Axis) -> Result<Self, String> {
        let (w, h) = (style.width, style.height);
        let log = style.log_y;
        let m = Metrics::new(w, h, (REF_W, REF_H));
        let (lw, tick_len, pad, outer) = (m.lw, m.tick_len, m.pad, m.outer);
        let tick_text = LabelFont::new(14.0 * m.kt)?;
        let tick_font = &tick_text.font;
        let label_font = Font::new(15.0 * m.kt)?;
        let title_font = Font::new(17.0 * m.kt)?;
        let legend_font = Font::new(14.0 * m.kt)?;
        let small_font = Font::new(12.5 * m.kt)?;

        // --- vertical layout ------------------------------------------------------
        // The top y tick label is centred on the frame: keep it (and any
        // exponent) inside the figure when there is no title above.
        let top_label = tick_font.cap() / 2.0
            + if log {
                (tick_text.raise() + tick_text.sup.cap() - tick_font.cap()).max(0.0)
            } else {
                0.0
            };
        let top = if style.title.is_empty() {
            outer.max(top_label.ceil() as i32 + m.px(4.0))
        } else {
            outer + (title_font.em * 1.2).round() as i32 + m.px(8.0)
        };
        let x_tick_text = pad + tick_font.cap().ceil() as i32;
        let x_label_h = if style.x_label.is_empty() {
            0
        } else {
            m.px(10.0) + (label_font.cap() + 0.24 * label_font.em).ceil() as i32
        };
        let bottom = lw + tick_len + x_tick_text + x_label_h + outer;
        let ph = h as i32 - top - bottom;
        if ph < 16 {
            return Err(format!("figure {w} x {h} is too small for the axes"));
        }

        // --- y ticks (depend only on the plot height) ------------------------------
        let y_ticks = if log {
            let max_labels = (ph as f64 / (1.8 * tick_font.em)) as usize;
            log_ticks(yaxis.lo as i32, yaxis.hi as i32, max_labels)
        } else {
            // matplotlib: MaxNLocator('auto'), nbins = axis length / (2 * font size), at most 9.
            let nbins = ((ph as f64 / (2.0 * tick_font.em)) as usize).clamp(1, 9);
            linear_ticks(yaxis.lo, yaxis.hi, nbins)
        };
        let max_y_w = y_ticks
            .iter()
            .map(|t| tick_text.width(&t.label).ceil() as i32)
            .max()
            .unwrap_or(0);
        let y_label_w = if style.y_label.is_empty() {
            0
        } else {
            (label_font.em * 1.2).round() as i32 + m.px(8.0)
        };
        let left = outer + y_label_w + max_y_w + pad + tick_len + lw;

        // --- x ticks (depend on the plot width, which depends on their labels) ----
        let pw0 = w as i32 - left - outer;
        let right = outer
            + overhang(
                &x_ticks(style, xaxis, &tick_text, pw0),
                xaxis,
                &tick_text,
                pw0,
            );
        let pw = w as i32 - left - right;
        if pw < 32 {
            return Err(format!("figure {w} x {h} is too small for the axes"));
        }
        let x_ticks = x_ticks(style, xaxis, &tick_text, pw);
        let frame = Frame {
            x0: left,
            y0: top,
            pw,
            ph,
            x: xaxis,
            y: yaxis,
            y_ticks,
            legend: None,
        };
        Ok(Self {
            m,
            tick_text,
            label_font,
            title_font,
            legend_font,
            small_font,
            x_ticks,
            frame,
        })
    }

    /// The plot area as axes.
    fn axes(&self) -> Axes<'_> {
        let f = &self.frame;
        Axes {
            x0: f.x0,
            y0: f.y0,
            w: f.pw,
            h: f.ph,
            m: &self.m,
            font: &self.tick_text,
        }
    }
}

/// The x ticks of a plot area `pw` pixels wide: the style's own, or automatic.
fn x_ticks(style: &LineChartStyle, xaxis: Axis, tick_text: &LabelFont, pw: i32) -> Vec<Tick> {
    match &style.x_ticks {
        Some(custom) => {
            let tol = (xaxis.hi - xaxis.lo) * 1e-9;
            custom
                .iter()
                .filter(|(v, _)| v.is_finite() && *v >= xaxis.lo - tol && *v <= xaxis.hi + tol)
                .map(|(v, s)| Tick {
                    v: *v,
                    label: s.clone(),
                    major: true,
                })
                .collect()
        }
        None => {
            // matplotlib: nbins = axis length / (3 * font size), at most 9;
            // fewer if the labels would come closer than 1 font size.
            let em = tick_text.font.em;
            let mut nbins = ((pw as f64 / (3.0 * em)) as usize).clamp(1, 9);
            loop {
                let t = linear_ticks(xaxis.lo, xaxis.hi, nbins);
                let widest = t
                    .iter()
                    .map(|t| tick_text.width(&t.label))
                    .fold(0.0, f64::max);
                let spacing = pw as f64 / t.len().max(1) as f64;
                if nbins == 1 || widest + em <= spacing {
                    return t;
                }
                nbins -= 1;
            }
        }
    }
}

/// How far the labels of `ticks` reach beyond the right end of a plot area `pw` wide.
fn overhang(ticks: &[Tick], xaxis: Axis, tick_text: &LabelFont, pw: i32) -> i32 {
    ticks
        .iter()
        .map(|t| {
            let c = xaxis.frac(t.v) * pw as f64;
            (c + tick_text.width(&t.label) / 2.0 - pw as f64).ceil() as i32
        })
        .max()
        .unwrap_or(0)
        .max(0)
}

fn render_canvas(series: &[Series], style: &LineChartStyle) -> Result<(Canvas, Frame), String> {
    validate(series, style)?;
    let (xaxis, yaxis) = data_axes(series, style)?;
    let mut lay = Layout::new(style, xaxis, yaxis)?;
    let (w, h) = (style.width, style.height);
    let f = &lay.frame;
    let (x0, y0, pw, ph) = (f.x0, f.y0, f.pw, f.ph);
    let mut cv = Canvas::new(w, h);
    let axes = lay.axes();
    let x_placed = place(&lay.x_ticks, |v| x0 as f64 + xaxis.frac(v) * pw as f64);
    let y_placed = place(&f.y_ticks, |v| {
        y0 as f64 + (1.0 - yaxis.frac(v)) * ph as f64
    });
    axes.grid(&mut cv, &x_placed, &y_placed, GRID);
    // Everything inside the axes, on a transparent layer: clipped, and its opacity is the
    // ink the legend avoids.
    let mut layer = Canvas::layer(pw as u32, ph as u32);
    let marker = vertical_line(style).map(|v| draw_marker(&mut layer, &lay, v));
    draw_bands(&mut layer, series, f);
    for s in series {
        let pen = Pen {
            dash: s.dashed.then(|| dash_pattern(s.width as f64)),
            ..Pen::solid(s.color, s.width as f64)
        };
        for run in runs(s, f) {
            stroke_run(&mut layer, &run, &pen);
        }
    }
    let mut ink: Vec<bool> = layer.pm.data().chunks_exact(4).map(|p| p[3] > 25).collect();
    cv.draw_layer(&layer, x0, y0);
    let label = vertical_line(style).filter(|v| !v.1.is_empty());
    if let (Some(vline), Some((lx, baseline, tw))) = (label, marker) {
        // The label is drawn opaque on the figure (text needs the opaque canvas), its box
        // marked as ink.
        let font = &lay.small_font;
        let (x, y) = ((x0 as f64 + lx).round(), (y0 as f64 + baseline).round());
        cv.text_rgb(font, &vline.1, x, y, false, MARKER);
        let (pwu, phu) = (pw as usize, ph as usize);
        let r0 = lay.m.px(6.0) as usize;
        let r1 = ((baseline + 0.3 * font.em).ceil() as usize).min(phu);
        let c0 = lx.floor().max(0.0) as usize;
        let c1 = ((lx + tw).ceil().max(0.0) as usize).min(pwu);
        for r in r0..r1 {
            ink[r * pwu + c0.min(c1)..r * pwu + c1].fill(true);
        }
    }
    axes.frame(&mut cv);
    axes.bottom_ticks(&mut cv, &x_placed, Some(w as i32));
    axes.left_ticks(&mut cv, &y_placed);
    draw_labels(&mut cv, style, &lay);

    let entries: Vec<Entry> = series
        .iter()
        .map(|s| Entry {
            label: &s.label,
            color: s.color,
            dashed: s.dashed,
            width: s.width,
            band: s.band.as_ref().map(|b| b.alpha),
        })
        .collect();
    let (k, lw) = (lay.m.k, lay.m.lw);
    let (font, area) = (&lay.legend_font, (x0, y0, pw, ph));
    lay.frame.legend = draw_legend(&mut cv, area, &entries, &ink, font, k, lw);
    Ok((cv, lay.frame))
}

/// One run of points (plot-area pixels) stroked with `pen`; an isolated point is a dot.
fn stroke_run(layer: &mut Canvas, run: &[(f64, f64)], pen: &Pen) {
    if let [p] = run {
        let dot =
            tiny_skia::PathBuilder::from_circle(p.0 as f32, p.1 as f32, pen.width as f32 / 2.0);
        if let Some(dot) = dot {
            layer.fill(&dot, pen.color, pen.alpha);
        }
    } else if let Some(path) = polyline(run, (0.0, 0.0)) {
        layer.stroke(&path, pen);
    }
}

/// Default opacity of a band's fill (matplotlib's usual `alpha=0.2`), and of its legend patch.
pub(crate) const BAND_ALPHA: f32 = 0.2;

/// A shaded interval around a series, e.g. a 95% confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Lower bound per x of the series; NaN = gap.
    pub lower: Vec<f64>,
    /// Upper bound per x of the series; NaN = gap.
    pub upper: Vec<f64>,
    /// Opacity of the fill, 0..1 (default 0.2): lighter bands keep many overlapping
    /// intervals readable.
    pub alpha: f32,
}

impl Default for Band {
    fn default() -> Self {
        Self {
            lower: Vec::new(),
            upper: Vec::new(),
            alpha: BAND_ALPHA,
        }
    }
}

/// The series' bands, translucent, in reverse series order: the first series (the one the
/// chart is about, first in the legend) has its band on top.
fn draw_bands(layer: &mut Canvas, series: &[Series], f: &Frame) {
    for s in series.iter().rev() {
        let Some(band) = &s.band else { continue };
        let alpha = band.alpha.clamp(0.0, 1.0);
        let ok = |x: f64, y: f64| drawable(x, y, f.y.log);
        let mut run: Vec<(f64, f64, f64)> = Vec::new();
        let points = s.x.iter().zip(&band.lower).zip(&band.upper);
        for ((&x, &lo), &hi) in points.chain([((&f64::NAN, &0.0), &0.0)]) {
            if ok(x, lo) && ok(x, hi) {
                run.push((f.to_px(x, lo).0, f.to_px(x, lo).1, f.to_px(x, hi).1));
                continue;
            }
            let pen = Pen {
                alpha,
                round: false,
                ..Pen::solid(s.color, s.width as f64)
            };
            if let [(x, lo, hi)] = run[..] {
                stroke_run(layer, &[(x, lo), (x, hi)], &pen);
            } else {
                let upper = run.iter().map(|&(x, _, hi)| (x, hi));
                let outline: Vec<(f64, f64)> = upper
                    .chain(run.iter().rev().map(|&(x, lo, _)| (x, lo)))
                    .collect();
                if let Some(path) = polyline(&outline, (0.0, 0.0)) {
                    layer.fill(&path, s.color, alpha);
                }
            }
            run.clear();
        }
    }
}

/// The axis labels and the title.
fn draw_labels(cv: &mut Canvas, style: &LineChartStyle, lay: &Layout) {
    let axes = lay.axes();
    let f = &lay.frame;
    if !style.x_label.is_empty() {
        let font = &lay.label_font;
        let baseline = axes.bottom_baseline() + lay.m.px(10.0) as f64 + font.cap();
        let centre = f.x0 as f64 + f.pw as f64 / 2.0;
        let text = &style.x_label;
        centred_text(cv, font, text, centre, baseline, f64::NEG_INFINITY);
    }
    if !style.y_label.is_empty() {
        // Rotated 90 degrees, centred on the axis, glyph tops facing left.
        let left = lay.m.outer as f64;
        axes.rotated_label(cv, &lay.label_font, &style.y_label, left);
    }
    if !style.title.is_empty() {
        axes.title(cv, &lay.title_font, &style.title, 1.0);
    }
}

/// The dashed vertical marker line on the plot layer; returns where its label goes (left
/// and baseline in plot-area pixels, width).
fn draw_marker(layer: &mut Canvas, lay: &Layout, (v, label): &(f64, String)) -> (f64, f64, f64) {
    let f = &lay.frame;
    let px = |v: f64| lay.m.px(v) as f64;
    let c = f.x.frac(*v) * f.pw as f64;
    let pen = Pen {
        dash: Some((px(6.0), px(4.0))),
        ..Pen::solid(MARKER, 1.3 * lay.m.k)
    };
    stroke_run(layer, &[(c, 0.0), (c, f.ph as f64)], &pen);
    let tw = lay.small_font.width(label);
    let gap = px(5.0);
    let lx = if c + gap + tw <= f.pw as f64 - gap {
        c + gap
    } else {
        c - gap - tw
    };
    (lx, px(8.0) + lay.small_font.cap(), tw)
}

#[cfg(test)]
mod tests;
