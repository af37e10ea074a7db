//! Line charts (matplotlib `plt.plot` + `legend` + `grid` look-alike) for
//! loss curves and time series, rendered into an RGB buffer and encoded as
//! PNG.
//!
//! Why this design:
//! * Same machinery and look as [`super::heatmap`]: the figure is rasterised
//!   by the private `canvas`, `text`, `stroke` and `axes` modules (DejaVu Sans
//!   text through `ab_glyph`, 1-pixel frame and ticks snapped to whole pixels)
//!   and encoded by `png`, so no plotting backend, Python or system font is
//!   needed. The caller writes the bytes (see [`super`]).
//! * Lines are anti-aliased by box-filtered coverage: every segment of a
//!   series adds its coverage (max, not sum) to a plot-sized buffer that is
//!   blended once in the series colour. Joins are round and never darker
//!   than the stroke, overlapping series stack in drawing order, and
//!   everything is clipped to the axes. Dashes follow matplotlib's scaled
//!   `--` pattern (3.7 on, 1.6 off, times the line width) with butt ends,
//!   continuing across vertices.
//! * Gaps: a point whose x or y is not finite (NaN), or whose y is `<= 0`
//!   on a log axis, is not drawn and splits the line. A point isolated
//!   between gaps is drawn as a dot of the line width (matplotlib would draw
//!   nothing, which hides data).
//! * Axis ranges: x and linear y span the drawable data with 5% padding on
//!   each side (matplotlib's default margins); the x range also includes
//!   `vertical_line` (as `axvline` does). A log y axis spans whole decades
//!   covering the positive data (matplotlib's classic `round_numbers`).
//! * Ticks: numeric ticks are matplotlib's `MaxNLocator('auto')`
//!   ([`super::contour::nice_ticks`]), with as many bins as fit the axis length
//!   (label spacing >= 3 font sizes on x, 2 on y, at most 9), labelled with
//!   the decimals the step needs and a Unicode minus. Log ticks sit at every
//!   power of ten, labelled with Unicode superscripts (`10⁻³`, `10⁰`; not
//!   `0.001`), with unlabelled minor ticks at 2..9 x 10^k; when the axis
//!   spans at most two decades and there is room, the 2 and 5 minors are
//!   labelled too (`2×10⁻³`), like matplotlib's `LogFormatterSciNotation`.
//!   When decades are too dense, only every n-th one is labelled. (Tick
//!   choice: the private `ticks` module.)
//! * Legend: one entry per distinct (label, colour, dash) among series with
//!   a non-empty label, in series order, in a box with a short line sample.
//!   It goes in the corner of the axes where it covers the least drawn ink,
//!   preferring upper right, then upper left, lower left, lower right (the
//!   order of matplotlib's `loc="best"`; the private `legend` module).

use super::axes::{centred_text, Axes, Metrics, Placed};
use super::band::{band_runs, cover_band, Band};
use super::canvas::Canvas;
use super::legend::{draw_legend, Entry};
use super::png::encode_png;
use super::stroke::{dash_pattern, max_into, stroke_runs};
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
    let png = encode_png(&cv).map_err(err);
    cv.recycle();
    png
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
    let (pwu, phu) = (pw as usize, ph as usize);
    // Max coverage of everything drawn in the axes, for legend placement.
    let mut ink = vec![0f32; pwu * phu];

    let axes = lay.axes();
    let x_placed: Vec<Placed> = lay
        .x_ticks
        .iter()
        .map(|t| Placed {
            pos: x0 as f64 + xaxis.frac(t.v) * pw as f64,
            label: &t.label,
            major: t.major,
        })
        .collect();
    let y_placed: Vec<Placed> = f
        .y_ticks
        .iter()
        .map(|t| Placed {
            pos: y0 as f64 + (1.0 - yaxis.frac(t.v)) * ph as f64,
            label: &t.label,
            major: t.major,
        })
        .collect();
    axes.grid(&mut cv, &x_placed, &y_placed, GRID);
    if let Some(vline) = vertical_line(style) {
        draw_marker(&mut cv, &mut ink, &lay, vline);
    }
    draw_bands(&mut cv, &mut ink, series, f);
    for s in series {
        let mut cov = vec![0f32; pwu * phu];
        let width = s.width as f64;
        let dash = s.dashed.then(|| dash_pattern(width));
        stroke_runs(&mut cov, pwu, phu, &runs(s, f), width, dash);
        cv.blend_coverage(&cov, pwu, x0, y0, s.color);
        max_into(&mut ink, &cov);
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
    let legend = draw_legend(
        &mut cv,
        (x0, y0, pw, ph),
        &entries,
        &ink,
        &lay.legend_font,
        k,
        lw,
    );
    lay.frame.legend = legend;
    Ok((cv, lay.frame))
}

/// The series' bands, translucent, in reverse series order: the first series (the one the
/// chart is about, first in the legend) has its band on top; marks them as ink.
fn draw_bands(cv: &mut Canvas, ink: &mut [f32], series: &[Series], f: &Frame) {
    let (pwu, phu) = (f.pw as usize, f.ph as usize);
    for s in series.iter().rev() {
        let Some(band) = &s.band else { continue };
        let runs: Vec<Vec<(f64, f64, f64)>> = band_runs(&s.x, band, |x, y| drawable(x, y, f.y.log))
            .into_iter()
            .map(|run| {
                run.into_iter()
                    .map(|(x, lo, hi)| (f.to_px(x, lo).0, f.to_px(x, lo).1, f.to_px(x, hi).1))
                    .collect()
            })
            .collect();
        let mut cov = vec![0f32; pwu * phu];
        cover_band(&mut cov, pwu, phu, &runs, s.width as f64);
        let alpha = band.alpha.clamp(0.0, 1.0);
        cov.iter_mut().for_each(|c| *c *= alpha);
        cv.blend_coverage(&cov, pwu, f.x0, f.y0, s.color);
        max_into(ink, &cov);
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
        centred_text(
            cv,
            font,
            &style.x_label,
            centre,
            baseline,
            f64::NEG_INFINITY,
        );
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

/// The dashed vertical marker line and its label; marks both as ink.
fn draw_marker(cv: &mut Canvas, ink: &mut [f32], lay: &Layout, (v, label): &(f64, String)) {
    let f = &lay.frame;
    let (x0, y0, pw, ph) = (f.x0, f.y0, f.pw, f.ph);
    let (pwu, phu) = (pw as usize, ph as usize);
    let (k, small_font) = (lay.m.k, &lay.small_font);
    let px = |v: f64| lay.m.px(v);
    let mut cov = vec![0f32; pwu * phu];
    let c = f.x.frac(*v) * pw as f64;
    let width = 1.3 * k;
    let run = vec![(c, 0.0), (c, ph as f64)];
    let dash = Some((px(6.0) as f64, px(4.0) as f64));
    stroke_runs(&mut cov, pwu, phu, &[run], width, dash);
    cv.blend_coverage(&cov, pwu, x0, y0, MARKER);
    max_into(ink, &cov);
    if !label.is_empty() {
        let tw = small_font.width(label);
        let gap = px(5.0) as f64;
        let lx = if c + gap + tw <= pw as f64 - gap {
            c + gap
        } else {
            c - gap - tw
        };
        let baseline = px(8.0) as f64 + small_font.cap();
        cv.text_rgb(
            small_font,
            label,
            (x0 as f64 + lx).round(),
            (y0 as f64 + baseline).round(),
            false,
            MARKER,
        );
        let r0 = px(6.0) as usize;
        let r1 = ((baseline + 0.3 * small_font.em).ceil() as usize).min(phu);
        let c0 = lx.floor().max(0.0) as usize;
        let c1 = ((lx + tw).ceil().max(0.0) as usize).min(pwu);
        for r in r0..r1 {
            ink[r * pwu + c0.min(c1)..r * pwu + c1].fill(1.0);
        }
    }
}

#[cfg(test)]
mod tests;
