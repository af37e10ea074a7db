//! Confidence bands of line charts: a translucent fill of the series colour between a lower
//! and an upper bound per x, under the lines (matplotlib `fill_between(..., alpha=0.2)`).
//!
//! Why polygons with coverage: a band is the polygon running along the upper bounds and back
//! along the lower ones. It is filled with the same box-filtered anti-aliasing as the strokes
//! (coverage per pixel, blended once): each pixel row is sampled on 16 sub-scanlines, and on
//! each the covered length of every span is exact, so slanted band edges are as smooth as the
//! lines on them. The nonzero winding rule fills a band whose bounds cross (lower above
//! upper) as the union of its two lobes instead of leaving holes.
//!
//! Gaps: a point whose x, lower or upper bound is not finite (or not positive on a log axis)
//! splits the band; an isolated point between gaps is drawn as a vertical bar of the line
//! width (an error bar), so no interval is hidden.

use super::stroke::stroke_runs;

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

/// The runs of a band: for each, the `(x, lower, upper)` of consecutive drawable points
/// (`ok(x, y)` true for both bounds).
pub(crate) fn band_runs(
    x: &[f64],
    band: &Band,
    ok: impl Fn(f64, f64) -> bool,
) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for ((&x, &lo), &hi) in x.iter().zip(&band.lower).zip(&band.upper) {
        if ok(x, lo) && ok(x, hi) {
            cur.push((x, lo, hi));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Coverage of the band runs `runs` (already in pixels of the `w` x `h` buffer `cov`:
/// `(x, y of lower, y of upper)`) accumulated (max) into `cov`; `width` is the line width
/// used for isolated points.
pub(crate) fn cover_band(
    cov: &mut [f32],
    w: usize,
    h: usize,
    runs: &[Vec<(f64, f64, f64)>],
    width: f64,
) {
    for run in runs {
        if run.len() == 1 {
            let (x, lo, hi) = run[0];
            stroke_runs(cov, w, h, &[vec![(x, lo), (x, hi)]], width, None);
            continue;
        }
        let poly: Vec<(f64, f64)> = run
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(run.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        fill_polygon(cov, w, h, &poly);
    }
}

/// Sub-scanlines per pixel row.
const SUB: usize = 16;

/// Accumulate (max) the coverage of the closed polygon `pts` (nonzero winding, pixel
/// coordinates, pixel centres at `+0.5`) into `cov` (`w` x `h`), clipped to the buffer.
pub(crate) fn fill_polygon(cov: &mut [f32], w: usize, h: usize, pts: &[(f64, f64)]) {
    let n = pts.len();
    if n < 3 || w == 0 {
        return;
    }
    let (ymin, ymax) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
        (a.0.min(p.1), a.1.max(p.1))
    });
    let (r0, r1) = (
        ymin.max(0.0).floor() as usize,
        ymax.max(0.0).ceil() as usize,
    );
    // One slot past the row for spans ending on its right edge.
    let mut row = vec![0f32; w + 1];
    let mut xs: Vec<(f64, i32)> = Vec::new();
    let wt = 1.0 / SUB as f32;
    for y in r0..r1.min(h) {
        row.fill(0.0);
        for s in 0..SUB {
            let sy = y as f64 + (s as f64 + 0.5) / SUB as f64;
            xs.clear();
            for i in 0..n {
                let (a, b) = (pts[i], pts[(i + 1) % n]);
                if (a.1 <= sy) != (b.1 <= sy) {
                    let t = (sy - a.1) / (b.1 - a.1);
                    xs.push((a.0 + t * (b.0 - a.0), if b.1 > a.1 { 1 } else { -1 }));
                }
            }
            xs.sort_by(|p, q| p.0.total_cmp(&q.0));
            let (mut wind, mut start) = (0, 0.0);
            for &(x, d) in &xs {
                let before = wind;
                wind += d;
                if before == 0 && wind != 0 {
                    start = x;
                } else if before != 0 && wind == 0 {
                    add_span(&mut row, start, x, w, wt);
                }
            }
        }
        for (slot, &c) in cov[y * w..(y + 1) * w].iter_mut().zip(&row) {
            let c = c.min(1.0);
            if c > *slot {
                *slot = c;
            }
        }
    }
}

/// Add weight `wt` times the covered length of `[xa, xb)` (clipped to `0..w`) to each pixel.
fn add_span(row: &mut [f32], xa: f64, xb: f64, w: usize, wt: f32) {
    let (xa, xb) = (xa.clamp(0.0, w as f64), xb.clamp(0.0, w as f64));
    if xb <= xa {
        return;
    }
    let (ia, ib) = (xa.floor() as usize, xb.floor() as usize);
    if ia == ib {
        row[ia] += (xb - xa) as f32 * wt;
        return;
    }
    row[ia] += (ia as f64 + 1.0 - xa) as f32 * wt;
    for slot in &mut row[ia + 1..ib] {
        *slot += wt;
    }
    row[ib] += (xb - ib as f64) as f32 * wt;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangle_has_exact_coverage() {
        let (w, h) = (10, 10);
        let mut cov = vec![0f32; w * h];
        fill_polygon(
            &mut cov,
            w,
            h,
            &[(2.5, 2.0), (6.0, 2.0), (6.0, 5.0), (2.5, 5.0)],
        );
        assert_eq!(cov[3 * w + 2], 0.5);
        assert_eq!(cov[3 * w + 4], 1.0);
        assert_eq!(cov[3 * w + 6], 0.0);
        assert_eq!(cov[5 * w + 4], 0.0);
        assert_eq!(cov[w + 4], 0.0);
        let total: f32 = cov.iter().sum();
        assert!((total - 3.5 * 3.0).abs() < 1e-4, "{total}");
    }

    #[test]
    fn slanted_edge_is_anti_aliased_and_clipped() {
        let (w, h) = (20, 20);
        let mut cov = vec![0f32; w * h];
        // A triangle reaching beyond the buffer on the right.
        fill_polygon(&mut cov, w, h, &[(0.0, 0.0), (40.0, 0.0), (0.0, 20.0)]);
        let partial = cov.iter().filter(|&&c| c > 0.05 && c < 0.95).count();
        assert!(
            partial >= 10,
            "edge pixels with partial coverage: {partial}"
        );
        let total: f32 = cov.iter().sum();
        // Area of the triangle inside the 20 x 20 buffer: 400 - 0.5 * 20 * 10 = 300.
        assert!((total - 300.0).abs() < 1.0, "{total}");
    }

    #[test]
    fn crossed_bounds_fill_both_lobes_and_nan_splits() {
        let x = [0.0, 1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0];
        let band = Band {
            lower: vec![0.0, 1.0, 2.0, 0.0, 1.0, f64::NAN, 1.0],
            upper: vec![2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 2.0],
            ..Band::default()
        };
        let runs = band_runs(&x, &band, |x, y| x.is_finite() && y.is_finite());
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[1], vec![(4.0, 1.0, 2.0)]);
        let (w, h) = (8, 4);
        let mut cov = vec![0f32; w * h];
        cover_band(&mut cov, w, h, &runs[..1], 1.0);
        // Both lobes of the bow tie are filled.
        assert!(cov[w] > 0.2 && cov[w + 1] > 0.0);
        let total: f32 = cov.iter().sum();
        assert!((total - 2.0).abs() < 0.05, "{total}");
    }
}
