//! The line charts' legend: a translucent white box with a light grey edge, one row per
//! distinct entry (a line sample, dashed when the series is, over a band patch when it has
//! one, and the label), placed in the corner of the axes covering the least ink.
//!
//! Why its own module: placement (matplotlib's `loc="best"` order: upper right, upper left,
//! lower left, lower right) and the box layout are independent of how the chart's lines are
//! drawn; it only needs to know where ink already is.

use super::canvas::{polyline, Canvas, Pen, WHITE};
use super::text::Font;

/// The legend box's edge colour (matplotlib's `0.8` grey).
const LEGEND_EDGE: [u8; 3] = [204, 204, 204];

/// What the legend shows of a series.
pub(crate) struct Entry<'a> {
    pub(crate) label: &'a str,
    pub(crate) color: [u8; 3],
    pub(crate) dashed: bool,
    pub(crate) width: f32,
    /// Opacity of the series' band, when it has one.
    pub(crate) band: Option<f32>,
}

/// matplotlib's scaled `--` pattern (on, off) for a line of `width` pixels.
pub(crate) fn dash_pattern(width: f64) -> (f64, f64) {
    ((3.7 * width).max(3.0), (1.6 * width).max(2.5))
}

/// Draw the legend of `lines` inside the axes `(x0, y0, pw, ph)`, avoiding `ink` (one flag
/// per plot-area pixel); returns its box `(x, y, w, h)`, `None` when no entry has a label.
pub(crate) fn draw_legend(
    cv: &mut Canvas,
    (x0, y0, pw, ph): (i32, i32, i32, i32),
    lines: &[Entry],
    ink: &[bool],
    font: &Font,
    k: f64,
    lw: i32,
) -> Option<(i32, i32, i32, i32)> {
    let mut entries: Vec<&Entry> = Vec::new();
    for s in lines.iter().filter(|s| !s.label.is_empty()) {
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
    // matplotlib's legend metrics in font sizes: border pad, handle length, text pad,
    // label spacing, axes pad.
    let em = font.em;
    let (pad, handle, text_pad, row, spacing) = (0.5 * em, 2.0 * em, 0.8 * em, em, 0.5 * em);
    let axes_pad = (0.5 * em).round() as i32;
    let text_w = entries
        .iter()
        .map(|s| font.width(s.label))
        .fold(0.0, f64::max);
    let bw = (2.0 * pad + handle + text_pad + text_w).ceil() as i32;
    let n = entries.len() as f64;
    let bh = (2.0 * pad + n * row + (n - 1.0) * spacing).ceil() as i32;

    let (l, r) = (x0 + axes_pad, x0 + pw - axes_pad - bw);
    let (t, b) = (y0 + axes_pad, y0 + ph - axes_pad - bh);
    let corners = [(r, t), (l, t), (l, b), (r, b)];
    let score = |(bx, by): (i32, i32)| -> usize {
        let rows = (by - y0).max(0)..(by - y0 + bh).min(ph);
        let cols = (bx - x0).max(0) as usize..(bx - x0 + bw).min(pw).max(0) as usize;
        rows.map(|yy| {
            let row = &ink[yy as usize * pw as usize..][..pw as usize];
            row[cols.clone()].iter().filter(|&&i| i).count()
        })
        .sum()
    };
    let (bx, by) = corners
        .iter()
        .copied()
        .enumerate()
        .min_by_key(|&(i, c)| (score(c), i))
        .map(|(_, c)| c)
        .unwrap_or((r, t));

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
        if let Some(alpha) = s.band {
            let (top, bottom) = ((centre - 0.4 * row).round(), (centre + 0.4 * row).round());
            for yy in top as i32..bottom as i32 {
                for xx in hx.round() as i32..(hx + handle).round() as i32 {
                    cv.blend(xx, yy, s.color, alpha.clamp(0.0, 1.0));
                }
            }
        }
        let width = s.width as f64;
        // A dashed sample shows at least two dashes.
        let dash = s.dashed.then(|| {
            let (on, off) = dash_pattern(width);
            let f = (handle / (2.0 * on + off)).min(1.0);
            (on * f, off.max(2.0 * k))
        });
        let pen = Pen {
            dash,
            ..Pen::solid(s.color, width)
        };
        if let Some(path) = polyline(&[(hx, centre), (hx + handle, centre)], (0.0, 0.0)) {
            cv.stroke(&path, &pen);
        }
        let baseline = (centre + font.cap() / 2.0).round();
        let x = (hx + handle + text_pad).round();
        cv.text(font, s.label, x, baseline, false);
    }
    Some((bx, by, bw, bh))
}
