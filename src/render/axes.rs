//! Axes drawn the same way for every figure: pixel sizes scaled from a reference figure,
//! the 1-pixel black frame, tick marks snapped to whole pixels, tick labels, grid lines,
//! axis labels (horizontal or rotated) and the title.
//!
//! Why one module: the map ([`super::heatmap`]), its colorbar and the line charts
//! ([`super::lines`]) must look alike (same font sizes, frame and tick conventions, a tick at
//! an axis end landing on the frame line), and used to spell this out twice. Callers choose
//! the ticks (values and labels, [`super::ticks`]) and convert them to pixel positions with
//! their own axis arithmetic; this module puts them on the canvas.

use super::canvas::{Canvas, BLACK};
use super::text::{Font, LabelFont};
use super::ticks::Tick;

/// Pixel sizes of a figure: tuned at a reference size and scaled with the figure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metrics {
    /// Scale of lines and gaps relative to the reference figure.
    pub(crate) k: f64,
    /// Scale of text: text shrinks less than the figure, so small figures stay readable.
    pub(crate) kt: f64,
    /// Frame and tick line width.
    pub(crate) lw: i32,
    /// Major tick length.
    pub(crate) tick_len: i32,
    /// Minor tick length.
    pub(crate) minor_len: i32,
    /// Gap between a tick and its label.
    pub(crate) pad: i32,
    /// Margin between the figure's edge and its outermost content.
    pub(crate) outer: i32,
}

impl Metrics {
    /// Sizes for a `w` x `h` figure whose pixel sizes were tuned at `reference`.
    pub(crate) fn new(w: u32, h: u32, reference: (f64, f64)) -> Self {
        let k = (w as f64 / reference.0)
            .min(h as f64 / reference.1)
            .max(0.25);
        let px = |v: f64| (v * k).round().max(1.0) as i32;
        Self {
            k,
            kt: k.max(0.85),
            lw: px(1.0),
            tick_len: px(5.0),
            minor_len: px(3.0),
            pad: px(5.0),
            outer: px(14.0),
        }
    }

    /// `v` reference pixels at this figure's size (at least 1).
    pub(crate) fn px(&self, v: f64) -> i32 {
        (v * self.k).round().max(1.0) as i32
    }
}

/// Map a continuous pixel coordinate to the column/row a 1-pixel-wide tick
/// should occupy, snapping ticks at the axis ends onto the frame lines.
pub(crate) fn snap(pos: f64, start: i32, len: i32, lw: i32) -> i32 {
    if pos < start as f64 + 0.5 {
        start - lw
    } else if pos > (start + len) as f64 - 0.5 {
        start + len
    } else {
        (pos - lw as f64 / 2.0).round() as i32
    }
}

/// A tick placed along its axis: figure pixel coordinate (column on a horizontal axis, row
/// on a vertical one), label (empty = none) and whether it is major (long mark, grid line).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed<'a> {
    pub(crate) pos: f64,
    pub(crate) label: &'a str,
    pub(crate) major: bool,
}

/// `ticks` placed along an axis by `pos` (data value to figure pixel).
pub(crate) fn place<'a>(ticks: &'a [Tick], pos: impl Fn(f64) -> f64) -> Vec<Placed<'a>> {
    let placed = |t: &'a Tick| Placed {
        pos: pos(t.v),
        label: &t.label,
        major: t.major,
    };
    ticks.iter().map(placed).collect()
}

/// A framed rectangle of the figure (map, colorbar or plot area) and how its ticks look.
pub(crate) struct Axes<'a> {
    /// Left column and top row inside the frame.
    pub(crate) x0: i32,
    pub(crate) y0: i32,
    /// Size inside the frame.
    pub(crate) w: i32,
    pub(crate) h: i32,
    pub(crate) m: &'a Metrics,
    /// Tick label text.
    pub(crate) font: &'a LabelFont,
}

impl Axes<'_> {
    /// The black frame around the rectangle, `lw` wide, outside it.
    pub(crate) fn frame(&self, cv: &mut Canvas) {
        let (x0, y0, w, h, lw) = (self.x0, self.y0, self.w, self.h, self.m.lw);
        cv.fill_rect(x0 - lw, y0 - lw, x0 + w + lw, y0, BLACK);
        cv.fill_rect(x0 - lw, y0 + h, x0 + w + lw, y0 + h + lw, BLACK);
        cv.fill_rect(x0 - lw, y0, x0, y0 + h, BLACK);
        cv.fill_rect(x0 + w, y0, x0 + w + lw, y0 + h, BLACK);
    }

    /// Column of a tick at `pos` on the horizontal axis.
    fn col(&self, pos: f64) -> i32 {
        snap(pos, self.x0, self.w, self.m.lw)
    }

    /// Row of a tick at `pos` on the vertical axis.
    fn row(&self, pos: f64) -> i32 {
        snap(pos, self.y0, self.h, self.m.lw)
    }

    fn len(&self, t: &Placed) -> i32 {
        if t.major {
            self.m.tick_len
        } else {
            self.m.minor_len
        }
    }

    /// Grid lines at the major ticks, inside the rectangle (none on the frame).
    pub(crate) fn grid(&self, cv: &mut Canvas, x: &[Placed], y: &[Placed], c: [u8; 3]) {
        let (x0, y0, w, h, lw) = (self.x0, self.y0, self.w, self.h, self.m.lw);
        for t in x.iter().filter(|t| t.major) {
            let c0 = self.col(t.pos);
            if c0 >= x0 && c0 + lw <= x0 + w {
                cv.fill_rect(c0, y0, c0 + lw, y0 + h, c);
            }
        }
        for t in y.iter().filter(|t| t.major) {
            let r = self.row(t.pos);
            if r >= y0 && r + lw <= y0 + h {
                cv.fill_rect(x0, r, x0 + w, r + lw, c);
            }
        }
    }

    /// Baseline of the labels under the horizontal axis.
    pub(crate) fn bottom_baseline(&self) -> f64 {
        let m = self.m;
        let label_top = self.y0 + self.h + m.lw + m.tick_len + m.pad;
        label_top as f64 + self.font.font.cap().round()
    }

    /// Ticks under the rectangle, labels centred under them; with `figure_w`, labels are
    /// kept inside a figure that wide (1 pixel from each edge).
    pub(crate) fn bottom_ticks(&self, cv: &mut Canvas, ticks: &[Placed], figure_w: Option<i32>) {
        let lw = self.m.lw;
        let baseline = self.bottom_baseline();
        let below = self.y0 + self.h + lw;
        for t in ticks {
            let c = self.col(t.pos);
            cv.fill_rect(c, below, c + lw, below + self.len(t), BLACK);
            if !t.label.is_empty() {
                let tw = self.font.width(t.label);
                let centre = c as f64 + lw as f64 / 2.0;
                let lx = match figure_w {
                    Some(w) => (centre - tw / 2.0).clamp(1.0, (w as f64 - tw - 1.0).max(1.0)),
                    None => centre - tw / 2.0,
                };
                self.font.draw(cv, t.label, lx.round(), baseline);
            }
        }
    }

    /// Baseline of a label vertically centred on the tick in row `r`.
    fn side_baseline(&self, r: i32) -> f64 {
        (r as f64 + self.m.lw as f64 / 2.0 + self.font.font.cap() / 2.0).round()
    }

    /// Ticks left of the rectangle, labels right-aligned before them.
    pub(crate) fn left_ticks(&self, cv: &mut Canvas, ticks: &[Placed]) {
        let m = self.m;
        let outside = self.x0 - m.lw;
        for t in ticks {
            let r = self.row(t.pos);
            cv.fill_rect(outside - self.len(t), r, outside, r + m.lw, BLACK);
            if !t.label.is_empty() {
                let tw = self.font.width(t.label);
                let lx = (outside - m.tick_len - m.pad) as f64 - tw;
                self.font
                    .draw(cv, t.label, lx.round(), self.side_baseline(r));
            }
        }
    }

    /// Ticks right of the rectangle, labels left-aligned after them.
    pub(crate) fn right_ticks(&self, cv: &mut Canvas, ticks: &[Placed]) {
        let m = self.m;
        let outside = self.x0 + self.w + m.lw;
        for t in ticks {
            let r = self.row(t.pos);
            cv.fill_rect(outside, r, outside + self.len(t), r + m.lw, BLACK);
            if !t.label.is_empty() {
                let lx = (outside + m.tick_len + m.pad) as f64;
                self.font.draw(cv, t.label, lx, self.side_baseline(r));
            }
        }
    }

    /// The title centred above the rectangle, starting no further left than `min_x`.
    pub(crate) fn title(&self, cv: &mut Canvas, font: &Font, text: &str, min_x: f64) {
        let centre = self.x0 as f64 + self.w as f64 / 2.0;
        let baseline = (self.y0 - self.m.lw - self.m.px(10.0)) as f64;
        centred_text(cv, font, text, centre, baseline, min_x);
    }

    /// A label rotated 90 degrees (reading upwards), centred on the rectangle's height,
    /// glyph tops at column `left`.
    pub(crate) fn rotated_label(&self, cv: &mut Canvas, font: &Font, text: &str, left: f64) {
        let tw = font.width(text);
        let col = left + font.cap();
        let start_row = self.y0 as f64 + self.h as f64 / 2.0 + tw / 2.0;
        cv.text(font, text, start_row.round(), col.round(), true);
    }
}

/// `text` centred on column `centre` (but starting no further left than `min_x`).
pub(crate) fn centred_text(
    cv: &mut Canvas,
    font: &Font,
    text: &str,
    centre: f64,
    baseline: f64,
    min_x: f64,
) {
    let tw = font.width(text);
    let lx = (centre - tw / 2.0).max(min_x);
    cv.text(font, text, lx.round(), baseline.round(), false);
}
