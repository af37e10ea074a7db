//! Line charts (matplotlib `plt.plot` + `legend` + `grid` look-alike) for
//! loss curves and time series, rendered into an RGB buffer and encoded as
//! PNG.
//!
//! Why this design:
//! * Same machinery and look as [`super::heatmap`]: the figure is rasterised
//!   by the private `canvas` module (DejaVu Sans text through `ab_glyph`, 1-pixel
//!   frame and ticks snapped to whole pixels, PNG encoding), so no
//!   plotting backend, Python or system font is needed. The caller writes
//!   the bytes (see [`super`]).
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
//!   ([`contour::nice_ticks`]), with as many bins as fit the axis length
//!   (label spacing >= 3 font sizes on x, 2 on y, at most 9), labelled with
//!   the decimals the step needs and a Unicode minus. Log ticks sit at every
//!   power of ten, labelled with Unicode superscripts (`10⁻³`, `10⁰`; not
//!   `0.001`), with unlabelled minor ticks at 2..9 x 10^k; when the axis
//!   spans at most two decades and there is room, the 2 and 5 minors are
//!   labelled too (`2×10⁻³`), like matplotlib's `LogFormatterSciNotation`.
//!   When decades are too dense, only every n-th one is labelled.
//! * Legend: one entry per distinct (label, colour, dash) among series with
//!   a non-empty label, in series order, in a box with a short line sample.
//!   It goes in the corner of the axes where it covers the least drawn ink,
//!   preferring upper right, then upper left, lower left, lower right (the
//!   order of matplotlib's `loc="best"`).

use super::canvas::{encode_png, fmt_num, snap, stroke_capped, Canvas, Font, BLACK, WHITE};
use super::contour;
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
/// Legend frame (matplotlib `legend.edgecolor` 0.8).
const LEGEND_EDGE: [u8; 3] = [204, 204, 204];
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

/// A tick: data value, label (empty = none) and whether it is major
/// (longer tick mark, grid line).
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    v: f64,
    label: String,
    major: bool,
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

/// `-3` -> `⁻³`.
fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '\u{207B}',
            '1' => '\u{00B9}',
            '2' => '\u{00B2}',
            '3' => '\u{00B3}',
            d => char::from_u32(0x2070 + d.to_digit(10).unwrap_or(0)).unwrap_or(d),
        })
        .collect()
}

/// Label of `m * 10^e` on a log axis: `10⁻³` or `2×10⁻³`.
fn log_label(m: u32, e: i32) -> String {
    if m == 1 {
        format!("10{}", superscript(e))
    } else {
        format!("{m}\u{00D7}10{}", superscript(e))
    }
}

/// Normal-size equivalent of a Unicode superscript character, if it is one.
fn from_superscript(c: char) -> Option<char> {
    match c {
        '\u{207B}' => Some('\u{2212}'),
        '\u{00B9}' => Some('1'),
        '\u{00B2}' => Some('2'),
        '\u{00B3}' => Some('3'),
        '\u{2070}' | '\u{2074}'..='\u{2079}' => char::from_digit(c as u32 - 0x2070, 10),
        _ => None,
    }
}

/// A label split into runs of normal text and of superscripts (converted
/// to normal characters, to be drawn smaller and raised).
fn label_runs(s: &str) -> Vec<(String, bool)> {
    let mut runs: Vec<(String, bool)> = Vec::new();
    for c in s.chars() {
        let (c, sup) = match from_superscript(c) {
            Some(n) => (n, true),
            None => (c, false),
        };
        match runs.last_mut() {
            Some((r, s)) if *s == sup => r.push(c),
            _ => runs.push((c.to_string(), sup)),
        }
    }
    runs
}

/// Tick label text: DejaVu Sans plus a smaller size for exponents, so
/// `10⁻³` is typeset like matplotlib's mathtext `$10^{-3}$` (the font's
/// own superscript glyphs are tiny and sit too low).
struct LabelFont {
    font: Font,
    sup: Font,
}

impl LabelFont {
    fn new(em: f64) -> Result<Self, String> {
        Ok(Self {
            font: Font::new(em)?,
            sup: Font::new(em * 0.7)?,
        })
    }

    fn width(&self, s: &str) -> f64 {
        label_runs(s)
            .iter()
            .map(|(r, sup)| if *sup { &self.sup } else { &self.font }.width(r))
            .sum()
    }

    /// How far superscripts rise above the baseline (baseline to baseline).
    fn raise(&self) -> f64 {
        0.4 * self.font.em
    }

    /// Draw `s` from `(x, baseline)`. With superscripts the baseline is
    /// lowered a little so the whole label stays centred where the caller
    /// centred plain digits.
    fn draw(&self, cv: &mut Canvas, s: &str, x: f64, baseline: f64) {
        let runs = label_runs(s);
        let baseline = if runs.iter().any(|r| r.1) {
            let over = self.raise() + self.sup.cap() - self.font.cap();
            (baseline + over.max(0.0) / 2.0).round()
        } else {
            baseline
        };
        let mut pen = x;
        for (r, sup) in &runs {
            if *sup {
                cv.text(
                    &self.sup,
                    r,
                    pen.round(),
                    (baseline - self.raise()).round(),
                    false,
                );
                pen += self.sup.width(r);
            } else {
                cv.text(&self.font, r, pen.round(), baseline, false);
                pen += self.font.width(r);
            }
        }
    }
}

/// Ticks of a log axis spanning decades `lo..=hi` with room for about
/// `max_labels` labels.
fn log_ticks(lo: i32, hi: i32, max_labels: usize) -> Vec<Tick> {
    let decades = (hi - lo).max(1) as usize;
    let max_labels = max_labels.max(2);
    let label_minor = decades <= 2 && (decades + 1) + 2 * decades <= max_labels;
    let stride = (decades + 1).div_ceil(max_labels).max(1) as i32;
    let mut ticks = Vec::new();
    for e in lo..=hi {
        let base = 10f64.powi(e);
        ticks.push(Tick {
            v: base,
            label: if e.rem_euclid(stride) == 0 {
                log_label(1, e)
            } else {
                String::new()
            },
            major: true,
        });
        if e == hi {
            break;
        }
        for m in 2..=9u32 {
            let labelled = label_minor && (m == 2 || m == 5);
            ticks.push(Tick {
                v: m as f64 * base,
                label: if labelled {
                    log_label(m, e)
                } else {
                    String::new()
                },
                major: false,
            });
        }
    }
    ticks
}

/// Automatic numeric ticks inside `[lo, hi]` with at most `nbins` intervals.
fn linear_ticks(lo: f64, hi: f64, nbins: usize) -> Vec<Tick> {
    let step = contour::nice_step(lo, hi, nbins);
    let tol = (hi - lo) * 1e-9;
    contour::nice_ticks(lo, hi, nbins)
        .into_iter()
        .filter(|&v| v >= lo - tol && v <= hi + tol)
        .map(|v| Tick {
            v,
            label: fmt_num(v, step),
            major: true,
        })
        .collect()
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

/// Stroke polylines (`runs`, in coordinates relative to the `w` x `h`
/// coverage buffer `cov`) solid or with a `(on, off)` dash pattern.
fn stroke_runs(
    cov: &mut [f32],
    w: usize,
    h: usize,
    runs: &[Vec<(f64, f64)>],
    width: f64,
    dash: Option<(f64, f64)>,
) {
    let hw = width / 2.0;
    for run in runs {
        if run.len() == 1 {
            stroke_capped(cov, w, h, run[0], run[0], hw, true, true);
            continue;
        }
        let pieces = match dash {
            None => vec![run.clone()],
            Some((on, off)) => dash_pieces(run, on, off),
        };
        for piece in pieces {
            let n = piece.len() - 1;
            for (i, seg) in piece.windows(2).enumerate() {
                let round_a = dash.is_none() || i > 0;
                let round_b = dash.is_none() || i + 1 < n;
                stroke_capped(cov, w, h, seg[0], seg[1], hw, round_a, round_b);
            }
        }
    }
}

/// Cut a polyline into dashes of length `on` separated by `off`, the
/// pattern running on across vertices. Each dash is a polyline of >= 2
/// points.
fn dash_pieces(run: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    let mut cur = vec![run[0]];
    let mut on_phase = true;
    let mut left = on;
    for seg in run.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        let mut t = 0.0;
        while len - t > 1e-9 {
            let step = left.min(len - t);
            t += step;
            left -= step;
            let f = t / len;
            let p = (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1));
            if on_phase {
                cur.push(p);
            }
            if left <= 1e-9 {
                if on_phase {
                    pieces.push(std::mem::take(&mut cur));
                    left = off;
                } else {
                    cur = vec![p];
                    left = on;
                }
                on_phase = !on_phase;
            }
        }
    }
    if on_phase && cur.len() >= 2 {
        pieces.push(cur);
    }
    pieces
}

/// matplotlib's scaled `--` pattern for a line of `width` pixels.
fn dash_pattern(width: f64) -> (f64, f64) {
    ((3.7 * width).max(3.0), (1.6 * width).max(2.5))
}

fn render_canvas(series: &[Series], style: &LineChartStyle) -> Result<(Canvas, Frame), String> {
    // --- validation ----------------------------------------------------------
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
        if !(s.width.is_finite() && s.width > 0.0) {
            return Err(format!(
                "series {i} ({:?}) has invalid line width {}",
                s.label, s.width
            ));
        }
    }
    let (w, h) = (style.width, style.height);
    if !(64..=8192).contains(&w) || !(64..=8192).contains(&h) {
        return Err(format!("unsupported figure size {w} x {h}"));
    }
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
    let vline = style.vertical_line.as_ref().filter(|(x, _)| x.is_finite());
    let (xmin, xmax) = match vline {
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

    // --- sizes (tuned at 1200 x 600, scaled with the figure) -----------------
    let k = (w as f64 / REF_W).min(h as f64 / REF_H).max(0.25);
    // Text shrinks less than the figure so small figures stay readable.
    let kt = k.max(0.85);
    let px = |v: f64| (v * k).round().max(1.0) as i32;
    let lw = px(1.0);
    let tick_len = px(5.0);
    let minor_len = px(3.0);
    let pad = px(5.0);
    let outer = px(14.0);
    let tick_text = LabelFont::new(14.0 * kt)?;
    let tick_font = &tick_text.font;
    let label_font = Font::new(15.0 * kt)?;
    let title_font = Font::new(17.0 * kt)?;
    let legend_font = Font::new(14.0 * kt)?;
    let small_font = Font::new(12.5 * kt)?;

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
        outer.max(top_label.ceil() as i32 + px(4.0))
    } else {
        outer + (title_font.em * 1.2).round() as i32 + px(8.0)
    };
    let x_tick_text = pad + tick_font.cap().ceil() as i32;
    let x_label_h = if style.x_label.is_empty() {
        0
    } else {
        px(10.0) + (label_font.cap() + 0.24 * label_font.em).ceil() as i32
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
        (label_font.em * 1.2).round() as i32 + px(8.0)
    };
    let left = outer + y_label_w + max_y_w + pad + tick_len + lw;

    // --- x ticks (depend on the plot width, which depends on their labels) ----
    let x_ticks_for = |pw: i32| -> Vec<Tick> {
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
                let mut nbins = ((pw as f64 / (3.0 * tick_font.em)) as usize).clamp(1, 9);
                loop {
                    let t = linear_ticks(xaxis.lo, xaxis.hi, nbins);
                    let widest = t
                        .iter()
                        .map(|t| tick_text.width(&t.label))
                        .fold(0.0, f64::max);
                    let spacing = pw as f64 / t.len().max(1) as f64;
                    if nbins == 1 || widest + tick_font.em <= spacing {
                        return t;
                    }
                    nbins -= 1;
                }
            }
        }
    };
    let overhang = |ticks: &[Tick], pw: i32| -> i32 {
        // How far the labels reach beyond the right end of the axes.
        ticks
            .iter()
            .map(|t| {
                let c = xaxis.frac(t.v) * pw as f64;
                (c + tick_text.width(&t.label) / 2.0 - pw as f64).ceil() as i32
            })
            .max()
            .unwrap_or(0)
            .max(0)
    };
    let pw0 = w as i32 - left - outer;
    let right = outer + overhang(&x_ticks_for(pw0), pw0);
    let pw = w as i32 - left - right;
    if pw < 32 {
        return Err(format!("figure {w} x {h} is too small for the axes"));
    }
    let x_ticks = x_ticks_for(pw);
    let (x0, y0) = (left, top);

    let mut frame = Frame {
        x0,
        y0,
        pw,
        ph,
        x: xaxis,
        y: yaxis,
        y_ticks,
        legend: None,
    };
    let mut cv = Canvas::new(w, h);
    let (pwu, phu) = (pw as usize, ph as usize);
    // Max coverage of everything drawn in the axes, for legend placement.
    let mut ink = vec![0f32; pwu * phu];

    // --- grid ----------------------------------------------------------------
    for t in x_ticks.iter().filter(|t| t.major) {
        let c = snap(x0 as f64 + xaxis.frac(t.v) * pw as f64, x0, pw, lw);
        if c >= x0 && c + lw <= x0 + pw {
            cv.fill_rect(c, y0, c + lw, y0 + ph, GRID);
        }
    }
    for t in frame.y_ticks.iter().filter(|t| t.major) {
        let r = snap(y0 as f64 + (1.0 - yaxis.frac(t.v)) * ph as f64, y0, ph, lw);
        if r >= y0 && r + lw <= y0 + ph {
            cv.fill_rect(x0, r, x0 + pw, r + lw, GRID);
        }
    }

    // --- vertical marker line ------------------------------------------------
    if let Some((v, label)) = vline {
        let mut cov = vec![0f32; pwu * phu];
        let c = xaxis.frac(*v) * pw as f64;
        let width = 1.3 * k;
        let run = vec![(c, 0.0), (c, ph as f64)];
        let dash = Some((px(6.0) as f64, px(4.0) as f64));
        stroke_runs(&mut cov, pwu, phu, &[run], width, dash);
        cv.blend_coverage(&cov, pwu, x0, y0, MARKER);
        max_into(&mut ink, &cov);
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
                &small_font,
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

    // --- series ----------------------------------------------------------------
    for s in series {
        let mut cov = vec![0f32; pwu * phu];
        let width = s.width as f64;
        let dash = s.dashed.then(|| dash_pattern(width));
        stroke_runs(&mut cov, pwu, phu, &runs(s, &frame), width, dash);
        cv.blend_coverage(&cov, pwu, x0, y0, s.color);
        max_into(&mut ink, &cov);
    }

    // --- frame, ticks and tick labels ----------------------------------------
    cv.fill_rect(x0 - lw, y0 - lw, x0 + pw + lw, y0, BLACK);
    cv.fill_rect(x0 - lw, y0 + ph, x0 + pw + lw, y0 + ph + lw, BLACK);
    cv.fill_rect(x0 - lw, y0, x0, y0 + ph, BLACK);
    cv.fill_rect(x0 + pw, y0, x0 + pw + lw, y0 + ph, BLACK);
    let label_top = y0 + ph + lw + tick_len + pad;
    let x_baseline = label_top as f64 + tick_font.cap().round();
    for t in &x_ticks {
        let c = snap(x0 as f64 + xaxis.frac(t.v) * pw as f64, x0, pw, lw);
        let len = if t.major { tick_len } else { minor_len };
        cv.fill_rect(c, y0 + ph + lw, c + lw, y0 + ph + lw + len, BLACK);
        if !t.label.is_empty() {
            let tw = tick_text.width(&t.label);
            let centre = c as f64 + lw as f64 / 2.0;
            let lx = (centre - tw / 2.0).clamp(1.0, (w as f64 - tw - 1.0).max(1.0));
            tick_text.draw(&mut cv, &t.label, lx.round(), x_baseline);
        }
    }
    for t in &frame.y_ticks {
        let r = snap(y0 as f64 + (1.0 - yaxis.frac(t.v)) * ph as f64, y0, ph, lw);
        let len = if t.major { tick_len } else { minor_len };
        cv.fill_rect(x0 - lw - len, r, x0 - lw, r + lw, BLACK);
        if !t.label.is_empty() {
            let tw = tick_text.width(&t.label);
            let baseline = (r as f64 + lw as f64 / 2.0 + tick_font.cap() / 2.0).round();
            let lx = (x0 - lw - tick_len - pad) as f64 - tw;
            tick_text.draw(&mut cv, &t.label, lx.round(), baseline);
        }
    }

    // --- axis labels and title -------------------------------------------------
    if !style.x_label.is_empty() {
        let tw = label_font.width(&style.x_label);
        let baseline = x_baseline + px(10.0) as f64 + label_font.cap();
        let lx = x0 as f64 + pw as f64 / 2.0 - tw / 2.0;
        cv.text(
            &label_font,
            &style.x_label,
            lx.round(),
            baseline.round(),
            false,
        );
    }
    if !style.y_label.is_empty() {
        // Rotated 90 degrees, centred on the axis, glyph tops facing left.
        let tw = label_font.width(&style.y_label);
        let col = outer as f64 + label_font.cap();
        let start_row = y0 as f64 + ph as f64 / 2.0 + tw / 2.0;
        cv.text(
            &label_font,
            &style.y_label,
            start_row.round(),
            col.round(),
            true,
        );
    }
    if !style.title.is_empty() {
        let tw = title_font.width(&style.title);
        let lx = (x0 as f64 + pw as f64 / 2.0 - tw / 2.0).max(1.0);
        cv.text(
            &title_font,
            &style.title,
            lx.round(),
            (y0 - lw - px(10.0)) as f64,
            false,
        );
    }

    // --- legend ------------------------------------------------------------------
    frame.legend = draw_legend(&mut cv, &frame, series, &ink, &legend_font, k, lw);
    Ok((cv, frame))
}

fn max_into(acc: &mut [f32], cov: &[f32]) {
    for (a, &c) in acc.iter_mut().zip(cov) {
        if c > *a {
            *a = c;
        }
    }
}

/// Draw the legend in the emptiest corner of the axes; returns its box.
fn draw_legend(
    cv: &mut Canvas,
    frame: &Frame,
    series: &[Series],
    ink: &[f32],
    font: &Font,
    k: f64,
    lw: i32,
) -> Option<(i32, i32, i32, i32)> {
    let mut entries: Vec<&Series> = Vec::new();
    for s in series.iter().filter(|s| !s.label.is_empty()) {
        let dup = entries
            .iter()
            .any(|e| e.label == s.label && e.color == s.color && e.dashed == s.dashed);
        if !dup {
            entries.push(s);
        }
    }
    if entries.is_empty() {
        return None;
    }
    // matplotlib's legend metrics in font sizes.
    let em = font.em;
    let pad = 0.5 * em;
    let handle = 2.0 * em;
    let text_pad = 0.8 * em;
    let row = em;
    let spacing = 0.5 * em;
    let axes_pad = (0.5 * em).round() as i32;
    let text_w = entries
        .iter()
        .map(|s| font.width(&s.label))
        .fold(0.0, f64::max);
    let bw = (2.0 * pad + handle + text_pad + text_w).ceil() as i32;
    let n = entries.len() as f64;
    let bh = (2.0 * pad + n * row + (n - 1.0) * spacing).ceil() as i32;

    let (x0, y0, pw, ph) = (frame.x0, frame.y0, frame.pw, frame.ph);
    let (l, r) = (x0 + axes_pad, x0 + pw - axes_pad - bw);
    let (t, b) = (y0 + axes_pad, y0 + ph - axes_pad - bh);
    // matplotlib "best" order: upper right, upper left, lower left, lower right.
    let corners = [(r, t), (l, t), (l, b), (r, b)];
    let pwu = pw as usize;
    let score = |(bx, by): (i32, i32)| -> usize {
        let mut n = 0;
        for yy in (by - y0).max(0)..(by - y0 + bh).min(ph) {
            for xx in (bx - x0).max(0)..(bx - x0 + bw).min(pw) {
                if ink[yy as usize * pwu + xx as usize] > 0.1 {
                    n += 1;
                }
            }
        }
        n
    };
    let (bx, by) = corners
        .iter()
        .copied()
        .enumerate()
        .min_by_key(|&(i, c)| (score(c), i))
        .map(|(_, c)| c)
        .unwrap_or((r, t));

    // Box: white at 80% opacity (matplotlib framealpha) with a grey edge.
    for yy in by..by + bh {
        for xx in bx..bx + bw {
            cv.blend(xx, yy, WHITE, 0.8);
        }
    }
    cv.fill_rect(bx, by, bx + bw, by + lw, LEGEND_EDGE);
    cv.fill_rect(bx, by + bh - lw, bx + bw, by + bh, LEGEND_EDGE);
    cv.fill_rect(bx, by, bx + lw, by + bh, LEGEND_EDGE);
    cv.fill_rect(bx + bw - lw, by, bx + bw, by + bh, LEGEND_EDGE);

    for (i, s) in entries.iter().enumerate() {
        let centre = by as f64 + pad + i as f64 * (row + spacing) + row / 2.0;
        let hx = bx as f64 + pad;
        // Line sample in a small coverage buffer around the handle.
        let width = s.width as f64;
        let margin = (width + 2.0).ceil();
        let (cw, ch) = ((handle + 2.0 * margin) as usize, (2.0 * margin) as usize);
        let (ox, oy) = ((hx - margin).floor(), (centre - margin).floor());
        let mut cov = vec![0f32; cw * ch];
        let run = vec![(hx - ox, centre - oy), (hx + handle - ox, centre - oy)];
        let dash = s.dashed.then(|| {
            // Shorter dashes so the sample shows at least one gap.
            let (on, off) = dash_pattern(width);
            let f = (handle / (2.0 * on + off)).min(1.0);
            (on * f, off.max(2.0 * k))
        });
        stroke_runs(&mut cov, cw, ch, &[run], width, dash);
        cv.blend_coverage(&cov, cw, ox as i32, oy as i32, s.color);
        let baseline = (centre + font.cap() / 2.0).round();
        cv.text(
            font,
            &s.label,
            (hx + handle + text_pad).round(),
            baseline,
            false,
        );
    }
    Some((bx, by, bw, bh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(cv: &Canvas, x: i32, y: i32) -> [u8; 3] {
        let i = (y * cv.w + x) as usize * 3;
        [cv.px[i], cv.px[i + 1], cv.px[i + 2]]
    }

    fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
        a.iter()
            .zip(&b)
            .all(|(&p, &q)| (p as i32 - q as i32).abs() <= tol)
    }

    #[test]
    fn renders_png_of_requested_size() {
        let s = Series {
            label: "a".into(),
            x: vec![0.0, 1.0, 2.0],
            y: vec![1.0, 3.0, 2.0],
            ..Series::default()
        };
        let style = LineChartStyle {
            title: "t".into(),
            width: 640,
            height: 360,
            ..LineChartStyle::default()
        };
        let png = render_lines(&[s], &style).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (640, 360));
    }

    #[test]
    fn line_pixels_have_the_series_colour() {
        let s = Series {
            label: "diag".into(),
            x: vec![0.0, 10.0],
            y: vec![0.0, 10.0],
            color: TAB10[3],
            width: 3.0,
            ..Series::default()
        };
        let (cv, f) = render_canvas(&[s], &LineChartStyle::default()).unwrap();
        for x in [2.3, 5.1, 7.7] {
            let (px, py) = f.to_px(x, x);
            let p = pixel(&cv, f.x0 + px as i32, f.y0 + py as i32);
            assert!(close(p, TAB10[3], 30), "at {x}: {p:?}");
        }
        // The legend (upper left: the line runs through the upper right).
        let (bx, by, _, _) = f.legend.unwrap();
        assert!(bx < f.x0 + f.pw / 2 && by < f.y0 + f.ph / 2);
    }

    #[test]
    fn dashed_line_has_gaps() {
        let s = Series {
            x: vec![0.0, 10.0],
            y: vec![5.0, 5.0],
            color: TAB10[0],
            dashed: true,
            ..Series::default()
        };
        let style = LineChartStyle {
            y_label: String::new(),
            ..LineChartStyle::default()
        };
        let (cv, f) = render_canvas(&[s], &style).unwrap();
        let (_, py) = f.to_px(0.0, 5.0);
        let row = f.y0 + py as i32;
        let (a, _) = f.to_px(1.0, 5.0);
        let (b, _) = f.to_px(9.0, 5.0);
        let coloured = (a as i32..b as i32)
            .filter(|&x| close(pixel(&cv, f.x0 + x, row), TAB10[0], 40))
            .count();
        let total = (b - a) as usize;
        assert!(
            coloured > total / 2 && coloured < total * 9 / 10,
            "{coloured} of {total}"
        );
    }

    #[test]
    fn log_axis_ticks_are_powers_of_ten() {
        let x: Vec<f64> = (0..=30).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|&e| 10f64.powf(-e / 10.0)).collect();
        let s = Series {
            label: "loss".into(),
            x,
            y,
            ..Series::default()
        };
        let style = LineChartStyle {
            log_y: true,
            ..LineChartStyle::default()
        };
        let (_, f) = render_canvas(&[s], &style).unwrap();
        assert_eq!((f.y.lo, f.y.hi), (-3.0, 0.0));
        let labels: Vec<&str> = f
            .y_ticks
            .iter()
            .filter(|t| !t.label.is_empty())
            .map(|t| t.label.as_str())
            .collect();
        assert_eq!(labels, ["10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
        assert_eq!(f.y_ticks.iter().filter(|t| !t.major).count(), 3 * 8);
        // One decade: the 2 and 5 minors are labelled too.
        let one: Vec<String> = log_ticks(-1, 0, 9)
            .into_iter()
            .filter(|t| !t.label.is_empty())
            .map(|t| t.label)
            .collect();
        assert_eq!(one, ["10⁻¹", "2×10⁻¹", "5×10⁻¹", "10⁰"]);
        // Many decades, little room: every other decade labelled.
        let many = log_ticks(-8, 0, 5);
        let n = many.iter().filter(|t| !t.label.is_empty()).count();
        assert_eq!(n, 5);
        assert_eq!(
            label_runs("2×10⁻¹²"),
            [
                ("2×10".to_string(), false),
                ("\u{2212}12".to_string(), true)
            ]
        );
        // The embedded font has every glyph these labels use.
        use ab_glyph::Font as _;
        let font = Font::new(14.0).unwrap();
        for c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻×−".chars() {
            assert_ne!(font.face.glyph_id(c).0, 0, "missing glyph {c}");
        }
    }

    #[test]
    fn log_axis_skips_non_positive_values() {
        let s = Series {
            x: vec![0.0, 1.0, 2.0, 3.0],
            y: vec![0.5, 0.0, -1.0, 0.02],
            ..Series::default()
        };
        let style = LineChartStyle {
            log_y: true,
            ..LineChartStyle::default()
        };
        let (_, f) = render_canvas(&[s], &style).unwrap();
        assert_eq!((f.y.lo, f.y.hi), (-2.0, 0.0));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let style = LineChartStyle::default();
        let r = render_lines(&[], &style);
        assert!(matches!(r, Err(RenderError::Chart { .. })));
        let bad = Series {
            x: vec![0.0, 1.0],
            y: vec![0.0],
            ..Series::default()
        };
        let r = render_lines(&[bad], &style);
        assert!(matches!(r, Err(RenderError::Chart { .. })));
        let nan = Series {
            x: vec![0.0, 1.0],
            y: vec![f64::NAN, f64::NAN],
            ..Series::default()
        };
        assert!(render_lines(&[nan], &style).is_err());
    }

    #[test]
    fn nan_splits_the_line() {
        let s = Series {
            x: vec![0.0, 1.0, 2.0, 3.0, 4.0],
            y: vec![0.0, 1.0, f64::NAN, 3.0, 4.0],
            color: TAB10[2],
            width: 3.0,
            ..Series::default()
        };
        let (cv, f) = render_canvas(&[s], &LineChartStyle::default()).unwrap();
        let is_line = |x: i32, y: i32| close(pixel(&cv, x, y), TAB10[2], 60);
        // Drawn before the gap...
        let (px, py) = f.to_px(0.5, 0.5);
        assert!(is_line(f.x0 + px as i32, f.y0 + py as i32));
        // ...but nothing of the series colour between x = 1.2 and 2.8.
        let (a, _) = f.to_px(1.2, 0.0);
        let (b, _) = f.to_px(2.8, 0.0);
        for x in a as i32..b as i32 {
            for y in 0..f.ph {
                let p = pixel(&cv, f.x0 + x, f.y0 + y);
                assert!(
                    p == WHITE || p == GRID,
                    "pixel ({x}, {y}) in the gap is {p:?}"
                );
            }
        }
    }

    #[test]
    fn dashes_follow_the_pattern() {
        let run = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)];
        let d = dash_pieces(&run, 4.0, 2.0);
        // 0-4, 6-10 (ends on the vertex), then 12-16 = (10,2)-(10,6), 18-20.
        assert_eq!(d.len(), 4);
        assert_eq!(d[1], vec![(6.0, 0.0), (10.0, 0.0)]);
        assert_eq!(d[2], vec![(10.0, 2.0), (10.0, 6.0)]);
        assert_eq!(d[3], vec![(10.0, 8.0), (10.0, 10.0)]);
    }

    #[test]
    fn custom_x_ticks_and_vertical_line_extend_range() {
        let s = Series {
            x: vec![2010.0, 2011.0],
            y: vec![1.0, 2.0],
            ..Series::default()
        };
        let style = LineChartStyle {
            x_ticks: Some(vec![(2010.0, "2010".into()), (2050.0, "far".into())]),
            vertical_line: Some((2012.0, "start".into())),
            ..LineChartStyle::default()
        };
        let (_, f) = render_canvas(&[s], &style).unwrap();
        assert!(f.x.lo < 2010.0 && f.x.hi > 2012.0 && f.x.hi < 2013.0);
    }
}
