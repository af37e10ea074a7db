//! The legend of a line chart: one entry per distinct (label, colour, dash), a box with a
//! short line sample per entry, in the corner of the axes that covers the least ink.
//!
//! Why by ink: matplotlib's `loc="best"` places the legend where it hides the fewest data;
//! counting the pixels of drawn coverage under each candidate box does the same for any mix
//! of lines and markers, in matplotlib's order of preference (upper right, upper left, lower
//! left, lower right) on ties.

use super::canvas::{Canvas, WHITE};
use super::stroke::{dash_pattern, stroke_runs};
use super::text::Font;

/// Legend frame (matplotlib `legend.edgecolor` 0.8).
const LEGEND_EDGE: [u8; 3] = [204, 204, 204];

/// A line as the legend shows it; an empty label keeps it out of the legend.
pub(crate) struct Entry<'a> {
    pub(crate) label: &'a str,
    pub(crate) color: [u8; 3],
    pub(crate) dashed: bool,
    /// Line width in pixels.
    pub(crate) width: f32,
    /// The opacity of the line's band, if it has one: a translucent patch behind its sample.
    pub(crate) band: Option<f32>,
}

/// Draw the legend of `lines` in the emptiest corner of the plot area `(x0, y0, w, h)`,
/// judged by `ink` (coverage of everything drawn there, row-major); returns its box.
pub(crate) fn draw_legend(
    cv: &mut Canvas,
    (x0, y0, pw, ph): (i32, i32, i32, i32),
    lines: &[Entry],
    ink: &[f32],
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
        .map(|s| font.width(s.label))
        .fold(0.0, f64::max);
    let bw = (2.0 * pad + handle + text_pad + text_w).ceil() as i32;
    let n = entries.len() as f64;
    let bh = (2.0 * pad + n * row + (n - 1.0) * spacing).ceil() as i32;

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
        if let Some(alpha) = s.band {
            let (top, bottom) = ((centre - 0.4 * row).round(), (centre + 0.4 * row).round());
            for yy in top as i32..bottom as i32 {
                for xx in hx.round() as i32..(hx + handle).round() as i32 {
                    cv.blend(xx, yy, s.color, alpha.clamp(0.0, 1.0));
                }
            }
        }
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
            s.label,
            (hx + handle + text_pad).round(),
            baseline,
            false,
        );
    }
    Some((bx, by, bw, bh))
}
