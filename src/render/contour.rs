//! Contour lines by marching squares, plus matplotlib-like "nice" level/tick
//! selection.
//!
//! Why: the heatmap overlays ~15 thin black iso-lines like
//! `plt.contour(lon, lat, z, 15, colors="k", linewidths=0.5)`. The lines are
//! computed here, independently of any drawing code, so they can be tested on
//! tiny fields and reused (e.g. by a future vector output).
//!
//! Design choices:
//! * The grid is the cell-centre grid (`x` = longitudes, `y` = latitudes), the
//!   same one matplotlib's `contour` uses when given centre coordinates.
//! * Any 2x2 block that contains a non-finite value (NaN = land) yields no
//!   segment, so lines stop at coastlines instead of running through land.
//! * A corner is "above" when `value > level` (contourpy's convention);
//!   saddles (two diagonal corners above) are resolved with the block's mean.
//! * The output is an unordered list of independent segments; joining them
//!   into polylines is unnecessary for raster drawing.
//! * [`nice_ticks`] is a port of the core of matplotlib's `MaxNLocator`
//!   (steps 1, 2, 2.5, 5, 10); [`contour_levels`] applies it the way
//!   `plt.contour(z, n)` does: `MaxNLocator(n + 1)` over the finite data range,
//!   keeping only the levels strictly inside that range.

/// A point in data coordinates: `(x, y)` = `(longitude, latitude)`.
pub type Point = (f64, f64);

/// One straight piece of a contour line.
pub type Segment = [Point; 2];

/// Iso-line segments of `values` at `level`.
///
/// `values` is row-major `[y][x]` with `values.len() == x.len() * y.len()`;
/// `x` and `y` are the coordinates of the grid nodes (monotonic, either
/// direction). Blocks touching a non-finite value are skipped.
///
/// # Panics
/// If `values.len() != x.len() * y.len()`.
pub fn marching_squares(x: &[f64], y: &[f64], values: &[f32], level: f64) -> Vec<Segment> {
    let mut out = Vec::new();
    marching_squares_levels(x, y, values, &[level], |_, s| out.push(s));
    out
}

/// Iso-line segments of `values` at every level of `levels`, in one pass
/// over the grid: `emit(k, segment)` receives each segment of `levels[k]`.
///
/// Same segments as [`marching_squares`] per level (bit for bit), but each
/// 2x2 block is read, checked for non-finite values and converted once for
/// all levels, and levels outside the block's value range are skipped
/// without building a case mask. Segments arrive block by block, not level
/// by level. Non-finite levels yield nothing.
///
/// # Panics
/// If `values.len() != x.len() * y.len()`.
pub fn marching_squares_levels(
    x: &[f64],
    y: &[f64],
    values: &[f32],
    levels: &[f64],
    mut emit: impl FnMut(usize, Segment),
) {
    let (nx, ny) = (x.len(), y.len());
    assert_eq!(values.len(), nx * ny, "values must be y.len() x x.len()");
    if nx < 2 || ny < 2 {
        return;
    }
    for i in 0..ny - 1 {
        let row0 = &values[i * nx..(i + 1) * nx];
        let row1 = &values[(i + 1) * nx..(i + 2) * nx];
        for j in 0..nx - 1 {
            // Corners counter-clockwise: c0 (i, j), c1 (i, j+1), c2 (i+1, j+1), c3 (i+1, j).
            let v = [row0[j], row0[j + 1], row1[j + 1], row1[j]];
            if v.iter().any(|z| !z.is_finite()) {
                continue;
            }
            let v = v.map(f64::from);
            let lo = v[0].min(v[1]).min(v[2].min(v[3]));
            let hi = v[0].max(v[1]).max(v[2].max(v[3]));
            for (k, &level) in levels.iter().enumerate() {
                // Some corner above and some not (mask neither 0 nor 15);
                // false for a NaN level.
                if lo <= level && hi > level {
                    block_segments(&v, level, (x[j], x[j + 1], y[i], y[i + 1]), |s| emit(k, s));
                }
            }
        }
    }
}

/// The one or two segments of the finite block `v` (corners c0..c3 as in
/// [`marching_squares_levels`]) at `level`, for a block with corners on both
/// sides of it.
#[inline]
fn block_segments(
    v: &[f64; 4],
    level: f64,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    mut push_segment: impl FnMut(Segment),
) {
    let mask = (v[0] > level) as u8
        | ((v[1] > level) as u8) << 1
        | ((v[2] > level) as u8) << 2
        | ((v[3] > level) as u8) << 3;
    // Crossing point on edge e: 0 bottom (c0-c1), 1 right (c1-c2),
    // 2 top (c3-c2), 3 left (c0-c3).
    let edge = |e: u8| -> Point {
        let frac = |a: f64, b: f64| (level - a) / (b - a);
        match e {
            0 => (x0 + frac(v[0], v[1]) * (x1 - x0), y0),
            1 => (x1, y0 + frac(v[1], v[2]) * (y1 - y0)),
            2 => (x0 + frac(v[3], v[2]) * (x1 - x0), y1),
            _ => (x0, y0 + frac(v[0], v[3]) * (y1 - y0)),
        }
    };
    let mut push = |a: u8, b: u8| push_segment([edge(a), edge(b)]);
    match mask {
        1 | 14 => push(3, 0),
        2 | 13 => push(0, 1),
        3 | 12 => push(3, 1),
        4 | 11 => push(1, 2),
        6 | 9 => push(0, 2),
        7 | 8 => push(3, 2),
        // Saddles: c0 and c2 above (5) or c1 and c3 above (10).
        5 | 10 => {
            let centre_above = (v[0] + v[1] + v[2] + v[3]) / 4.0 > level;
            // Corners c0/c2 are cut off when they are the "odd ones"
            // relative to the centre, otherwise c1/c3 are.
            let cut_c0_c2 = (mask == 5) != centre_above;
            if cut_c0_c2 {
                push(3, 0);
                push(1, 2);
            } else {
                push(0, 1);
                push(2, 3);
            }
        }
        _ => {} // 0 and 15: no crossing (excluded by the caller)
    }
}

/// "Nice" tick values covering `[lo, hi]` with at most `nbins` intervals,
/// like matplotlib's `MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10])`.
///
/// The returned ticks are multiples of the chosen step and may extend up to
/// one step beyond the range; callers filter to what they need.
pub fn nice_ticks(lo: f64, hi: f64, nbins: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || nbins == 0 {
        return Vec::new();
    }
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        return vec![lo];
    }
    let step = nice_step(lo, hi, nbins);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    (first..=last)
        .map(|k| {
            let t = k as f64 * step;
            // Clean up representation noise (e.g. 0.30000000000000004).
            if t.abs() < step * 1e-9 {
                0.0
            } else {
                t
            }
        })
        .collect()
}

/// The step [`nice_ticks`] uses for `[lo, hi]` and `nbins` (lo < hi).
pub fn nice_step(lo: f64, hi: f64, nbins: usize) -> f64 {
    let raw = (hi - lo) / nbins.max(1) as f64;
    let scale = 10f64.powf(raw.log10().floor());
    for s in [1.0, 2.0, 2.5, 5.0, 10.0, 20.0] {
        let step = s * scale;
        if step < raw * (1.0 - 1e-9) {
            continue;
        }
        let first = (lo / step + 1e-9).floor();
        let last = (hi / step - 1e-9).ceil();
        if last - first <= nbins as f64 {
            return step;
        }
    }
    20.0 * scale
}

/// Contour levels for `n` requested lines over the data range `[zmin, zmax]`,
/// as `plt.contour(z, n)` picks them: `MaxNLocator(n + 1)` ticks, keeping the
/// ones strictly inside the data range. Typically yields `n - 1 ..= n` levels.
/// Empty when `n == 0` or the range is empty or non-finite.
pub fn contour_levels(zmin: f64, zmax: f64, n: usize) -> Vec<f64> {
    if n == 0 || !zmin.is_finite() || !zmax.is_finite() || zmax <= zmin {
        return Vec::new();
    }
    nice_ticks(zmin, zmax, n + 1)
        .into_iter()
        .filter(|&l| l > zmin && l < zmax)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Point, b: Point) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn horizontal_line_between_rows() {
        // Row y=0 is cold, row y=10 is warm: the 0.25 iso-line is at y=2.5.
        let x = [0.0, 2.0, 4.0];
        let y = [0.0, 10.0];
        let v = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let segs = marching_squares(&x, &y, &v, 0.25);
        assert_eq!(segs.len(), 2);
        for s in &segs {
            assert!((s[0].1 - 2.5).abs() < 1e-9 && (s[1].1 - 2.5).abs() < 1e-9);
        }
        let mut xs: Vec<f64> = segs.iter().flat_map(|s| [s[0].0, s[1].0]).collect();
        xs.sort_by(f64::total_cmp);
        assert_eq!(xs, vec![0.0, 2.0, 2.0, 4.0]);
    }

    #[test]
    fn single_corner_cut() {
        // Only the (x=1, y=0) corner is above 0.5: the segment joins the
        // bottom edge at x=0.5 and the right edge at y=0.5.
        let segs = marching_squares(&[0.0, 1.0], &[0.0, 1.0], &[0.0, 1.0, 0.0, 0.0], 0.5);
        assert_eq!(segs.len(), 1);
        let s = segs[0];
        assert!(close(s[0], (0.5, 0.0)) && close(s[1], (1.0, 0.5)), "{s:?}");
    }

    #[test]
    fn nan_blocks_produce_nothing() {
        let nan = f32::NAN;
        // Same field as above but one corner is land: no segment at all.
        assert!(marching_squares(&[0.0, 1.0], &[0.0, 1.0], &[0.0, 1.0, 0.0, nan], 0.5).is_empty());
        // 3x3 field with a NaN centre: every block touches it.
        let v = [0.0, 0.0, 0.0, 1.0, nan, 1.0, 2.0, 2.0, 2.0];
        let g = [0.0, 1.0, 2.0];
        assert!(marching_squares(&g, &g, &v, 0.5).is_empty());
        // NaN in a corner only removes the blocks touching it.
        let v = [nan, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0];
        let segs = marching_squares(&g, &g, &v, 0.5);
        assert_eq!(segs.len(), 1);
        assert!(segs.iter().all(|s| s[0].0 >= 1.0 && s[1].0 >= 1.0));
    }

    #[test]
    fn saddle_gives_two_segments() {
        // c0 (0,0) and c2 (1,1) are high, c1 (1,0) and c3 (0,1) low.
        let (g, v) = ([0.0, 1.0], [1.0, 0.0, 0.0, 1.0]);
        // Centre mean 0.5 above level 0.4: the high corners connect, so the
        // lines cut off the low corners c1 and c3.
        let segs = marching_squares(&g, &g, &v, 0.4);
        assert_eq!(segs.len(), 2);
        assert!(close(segs[0][0], (0.6, 0.0)) && close(segs[0][1], (1.0, 0.4)));
        assert!(close(segs[1][0], (0.4, 1.0)) && close(segs[1][1], (0.0, 0.6)));
        // Centre below level 0.6: the high corners are cut off instead.
        let segs = marching_squares(&g, &g, &v, 0.6);
        assert_eq!(segs.len(), 2);
        assert!(close(segs[0][0], (0.0, 0.4)) && close(segs[0][1], (0.4, 0.0)));
        assert!(close(segs[1][0], (1.0, 0.6)) && close(segs[1][1], (0.6, 1.0)));
    }

    #[test]
    fn all_levels_at_once_match_one_level_at_a_time() {
        let (nx, ny) = (23, 17);
        let x: Vec<f64> = (0..nx).map(|j| j as f64 * 2.0 - 20.0).collect();
        let y: Vec<f64> = (0..ny).map(|i| 40.0 - i as f64 * 3.0).collect();
        let v: Vec<f32> = (0..nx * ny)
            .map(|k| {
                let (i, j) = ((k / nx) as f32, (k % nx) as f32);
                if (i - 8.0).abs() < 2.0 && (j - 5.0).abs() < 2.0 {
                    f32::NAN
                } else {
                    (i * 0.7).sin() * 3.0 + (j * 0.45).cos() * 2.0 + i * 0.1
                }
            })
            .collect();
        let levels = [-4.0, -2.0, -0.5, 0.0, 0.3, 1.0, 2.5, 4.0, f64::NAN];
        let mut by_level = vec![Vec::new(); levels.len()];
        marching_squares_levels(&x, &y, &v, &levels, |k, s| by_level[k].push(s));
        for (k, &level) in levels.iter().enumerate() {
            let key = |s: &Segment| [s[0].0, s[0].1, s[1].0, s[1].1].map(f64::to_bits);
            let mut one: Vec<_> = marching_squares(&x, &y, &v, level)
                .iter()
                .map(key)
                .collect();
            let mut all: Vec<_> = by_level[k].iter().map(key).collect();
            one.sort_unstable();
            all.sort_unstable();
            assert_eq!(one, all, "level {level}");
            assert_eq!(level.is_nan(), one.is_empty());
        }
    }

    #[test]
    fn levels_like_matplotlib() {
        // plt.contour(z, 15) on data in [0, 30] -> MaxNLocator(16): step 2,
        // levels 2, 4, ..., 28.
        let l = contour_levels(0.0, 30.0, 15);
        let expect: Vec<f64> = (1..15).map(|k| 2.0 * k as f64).collect();
        assert_eq!(l, expect);
        // Colorbar-style ticks for -2..30 with up to 9 bins: step 5.
        let t = nice_ticks(-2.0, 30.0, 9);
        assert_eq!(t, vec![-5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        assert!(contour_levels(1.0, 1.0, 15).is_empty());
        assert!(contour_levels(0.0, 1.0, 0).is_empty());
        let l = contour_levels(-1.3, 1.7, 10);
        assert!((nice_step(-1.3, 1.7, 11) - 0.5).abs() < 1e-12);
        assert_eq!(l.len(), 6);
    }
}
