//! Anti-aliased strokes: box-filtered coverage of round- or butt-capped segments,
//! polylines with matplotlib's dashes, accumulated into coverage buffers.
//!
//! Why coverage buffers: a line is drawn by first accumulating, per pixel, the *maximum*
//! coverage of all its segments and blending the buffer once in the line colour. Joins are
//! then round and never darker than the stroke, overlapping lines stack in drawing order, and
//! clipping is the buffer's bounds. Contours ([`super::heatmap`]), series, the vertical marker
//! and legend samples ([`super::lines`], [`super::legend`]) all go through here.

/// Accumulate (max) the box-filtered coverage of a round-capped segment of
/// half-width `hw` into `cov` (`w` x `h`, pixel centres at `+0.5`).
pub(crate) fn stroke_segment(
    cov: &mut [f32],
    w: usize,
    h: usize,
    a: (f64, f64),
    b: (f64, f64),
    hw: f64,
) {
    stroke_segment_with(w, h, a, b, hw, |i, c| {
        let slot = &mut cov[i];
        if c > *slot {
            *slot = c;
        }
    });
}

/// The pixels a round-capped segment of half-width `hw` covers in a `w` x `h`
/// buffer (pixel centres at `+0.5`): `put(y * w + x, coverage)` for each,
/// coverage in `(0, 1]`.
///
/// Only pixels near the segment's line are visited: a pixel whose centre is
/// `hw + 0.5` or more from the infinite line through `a` and `b` has zero
/// coverage (the segment is no closer than its line), so each row is cut to
/// the span within that distance, widened by a safety margin (0.05 px) so
/// that rounding can never drop a covered pixel. Coverage values are those
/// of the plain per-pixel formula, bit for bit.
pub(crate) fn stroke_segment_with(
    w: usize,
    h: usize,
    a: (f64, f64),
    b: (f64, f64),
    hw: f64,
    mut put: impl FnMut(usize, f32),
) {
    let reach = hw + 1.0;
    let xlo = floor_index(a.0.min(b.0) - reach);
    let ylo = floor_index(a.1.min(b.1) - reach);
    let xhi = ceil_index(a.0.max(b.0) + reach).min(w);
    let yhi = ceil_index(a.1.max(b.1) + reach).min(h);
    let (ex, ey) = (b.0 - a.0, b.1 - a.1);
    let len2 = ex * ex + ey * ey;
    // Pixels whose centre lies within `hw + 0.5` of the line (plus a margin
    // for rounding): |(px - a.0) * ey - (py - a.1) * ex| < band.
    let band = (hw + 0.5 + 0.05) * len2.sqrt();
    // Coverage of the pixel centred at (px, py).
    let coverage = |px: f64, py: f64| -> f32 {
        let t = if len2 > 0.0 {
            (((px - a.0) * ex + (py - a.1) * ey) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (qx, qy) = (a.0 + t * ex - px, a.1 + t * ey - py);
        let d = (qx * qx + qy * qy).sqrt();
        // Overlap of the stroke's cross-section [d - hw, d + hw] with the pixel.
        ((d + hw).min(0.5) - (d - hw).max(-0.5)).max(0.0) as f32
    };
    // Coverage of a run of a row is computed first, branch-free, and handed
    // out afterwards, so that the divisions and square roots of neighbouring
    // pixels overlap instead of waiting on the caller's branches.
    const RUN: usize = 16;
    let mut run = [0f32; RUN];
    for y in ylo..yhi {
        let py = y as f64 + 0.5;
        let (mut x_from, mut x_to) = (xlo, xhi);
        let k = (py - a.1) * ex;
        if len2 == 0.0 {
            // A dot: the whole box.
        } else if ey == 0.0 {
            if k.abs() >= band {
                continue;
            }
        } else {
            // px in (p0, p1); pixel x has its centre at x + 0.5. Infinite
            // bounds (tiny ey) saturate in the casts.
            let (q0, q1) = ((k - band) / ey, (k + band) / ey);
            let (p0, p1) = (a.0 + q0.min(q1), a.0 + q0.max(q1));
            x_from = x_from.max(floor_index(p0 - 0.5));
            x_to = x_to.min(ceil_index(p1 - 0.5));
        }
        let mut x = x_from;
        while x < x_to {
            let n = (x_to - x).min(RUN);
            // Pixel centres are small integers + 0.5: exact in f64.
            let mut px = x as f64 + 0.5;
            for c in &mut run[..n] {
                *c = coverage(px, py);
                px += 1.0;
            }
            for (i, &c) in run[..n].iter().enumerate() {
                if c > 0.0 {
                    put(y * w + x + i, c);
                }
            }
            x += n;
        }
    }
}

/// `v.floor()` as an index, 0 for negative or NaN `v`, saturating (no libm
/// call on baseline x86-64).
#[inline]
fn floor_index(v: f64) -> usize {
    // Truncation is the floor for v >= 0; the cast maps NaN and v < 0 to 0.
    v as usize
}

/// `v.ceil()` as an index, 0 for negative or NaN `v`, saturating.
#[inline]
fn ceil_index(v: f64) -> usize {
    let t = v as usize;
    if (t as f64) < v {
        t.saturating_add(1)
    } else {
        t
    }
}

/// Like [`stroke_segment`], but each end can be butt-capped (`round_a` /
/// `round_b` false): the stroke then stops exactly at that end point, as
/// needed for dashes; round ends give round joins between segments.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stroke_capped(
    cov: &mut [f32],
    w: usize,
    h: usize,
    a: (f64, f64),
    b: (f64, f64),
    hw: f64,
    round_a: bool,
    round_b: bool,
) {
    let (ex, ey) = (b.0 - a.0, b.1 - a.1);
    let len = ex.hypot(ey);
    if len < 1e-9 {
        if round_a || round_b {
            stroke_segment(cov, w, h, a, b, hw);
        }
        return;
    }
    let (ux, uy) = (ex / len, ey / len);
    let reach = hw + 1.0;
    let xlo = (a.0.min(b.0) - reach).floor().max(0.0) as usize;
    let ylo = (a.1.min(b.1) - reach).floor().max(0.0) as usize;
    let xhi = ((a.0.max(b.0) + reach).ceil().max(0.0) as usize).min(w);
    let yhi = ((a.1.max(b.1) + reach).ceil().max(0.0) as usize).min(h);
    // Overlap of the stroke's cross-section [d - hw, d + hw] with the pixel.
    let across = |d: f64| ((d + hw).min(0.5) - (d - hw).max(-0.5)).max(0.0);
    let lo = if round_a { f64::NEG_INFINITY } else { 0.0 };
    let hi = if round_b { f64::INFINITY } else { len };
    for y in ylo..yhi {
        let py = y as f64 + 0.5;
        for x in xlo..xhi {
            let px = x as f64 + 0.5;
            let (dx, dy) = (px - a.0, py - a.1);
            let s = dx * ux + dy * uy;
            let c = if s < 0.0 && round_a {
                across(dx.hypot(dy))
            } else if s > len && round_b {
                across((px - b.0).hypot(py - b.1))
            } else {
                let along = ((s + 0.5).min(hi) - (s - 0.5).max(lo)).clamp(0.0, 1.0);
                along * across((dx * uy - dy * ux).abs())
            } as f32;
            let slot = &mut cov[y * w + x];
            if c > *slot {
                *slot = c;
            }
        }
    }
}

/// Stroke polylines (`runs`, in coordinates relative to the `w` x `h`
/// coverage buffer `cov`) solid or with a `(on, off)` dash pattern.
pub(crate) fn stroke_runs(
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
pub(crate) fn dash_pieces(run: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
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
pub(crate) fn dash_pattern(width: f64) -> (f64, f64) {
    ((3.7 * width).max(3.0), (1.6 * width).max(2.5))
}

/// Accumulate coverage `cov` into `acc` (max), e.g. all ink drawn in the axes.
pub(crate) fn max_into(acc: &mut [f32], cov: &[f32]) {
    for (a, &c) in acc.iter_mut().zip(cov) {
        if c > *a {
            *a = c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-pixel stroke over the whole bounding box, as before rows were
    /// cut to the band around the line.
    fn stroke_reference(
        cov: &mut [f32],
        w: usize,
        h: usize,
        a: (f64, f64),
        b: (f64, f64),
        hw: f64,
    ) {
        let reach = hw + 1.0;
        let xlo = (a.0.min(b.0) - reach).floor().max(0.0) as usize;
        let ylo = (a.1.min(b.1) - reach).floor().max(0.0) as usize;
        let xhi = ((a.0.max(b.0) + reach).ceil().max(0.0) as usize).min(w);
        let yhi = ((a.1.max(b.1) + reach).ceil().max(0.0) as usize).min(h);
        let (ex, ey) = (b.0 - a.0, b.1 - a.1);
        let len2 = ex * ex + ey * ey;
        for y in ylo..yhi {
            let py = y as f64 + 0.5;
            for x in xlo..xhi {
                let px = x as f64 + 0.5;
                let t = if len2 > 0.0 {
                    (((px - a.0) * ex + (py - a.1) * ey) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (qx, qy) = (a.0 + t * ex - px, a.1 + t * ey - py);
                let d = (qx * qx + qy * qy).sqrt();
                let c = ((d + hw).min(0.5) - (d - hw).max(-0.5)).max(0.0) as f32;
                let slot = &mut cov[y * w + x];
                if c > *slot {
                    *slot = c;
                }
            }
        }
    }

    #[test]
    fn cut_stroke_equals_full_box_stroke() {
        let (w, h) = (61, 47);
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move |lo: f64, hi: f64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut segments = vec![
            ((10.0, 10.0), (10.0, 10.0)), // dot
            ((3.2, 20.5), (50.7, 20.5)),  // horizontal
            ((30.5, 2.0), (30.5, 40.0)),  // vertical
            ((5.0, 5.0), (55.0, 5.0 + 1e-12)),
            ((-5.0, -3.0), (70.0, 52.0)), // leaves the buffer
            ((0.0, 0.0), (60.9, 46.9)),
        ];
        for _ in 0..400 {
            let a = (rnd(-3.0, 64.0), rnd(-3.0, 50.0));
            let len = rnd(0.0, 12.0);
            let ang = rnd(0.0, std::f64::consts::TAU);
            segments.push((a, (a.0 + len * ang.cos(), a.1 + len * ang.sin())));
        }
        for hw in [0.3, 0.4, 0.75, 1.6] {
            let mut got = vec![0f32; w * h];
            let mut want = vec![0f32; w * h];
            for &(a, b) in &segments {
                stroke_segment(&mut got, w, h, a, b, hw);
                stroke_reference(&mut want, w, h, a, b, hw);
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(g, r)| g.to_bits() == r.to_bits()),
                    "hw {hw}, segment {a:?} {b:?}"
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
}
