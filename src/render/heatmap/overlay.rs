//! What a map draws over its cells: contour lines (isolines by georust `contour`), coastlines,
//! and hatching, all anti-aliased by `tiny-skia` and clipped to the map.
//!
//! Why this way:
//! * `contour` (a port of d3-contour) treats the grid as closed: outside it, and at NaN, the
//!   field counts as below every level, so its rings also run along the grid's border and
//!   around every coast. A segment is kept only when the 2x2 block of samples it crosses is
//!   inside the grid and finite, so lines stop at land like matplotlib's (and like
//!   marching squares that skip blocks touching NaN). A periodic grid gets its last column
//!   repeated before the first and the first after the last, so lines cross the dateline.
//! * Lines are clipped to the map rectangle geometrically (Liang-Barsky), not with a
//!   `tiny-skia` mask: a mask sends every stroked pixel through a slower pipeline.
//! * The isolines come in grid-index coordinates (sample `i` at `i + 0.5`, crossings placed
//!   by linear interpolation); they are mapped to degrees through the cell centres, so
//!   non-uniform grids (Gaussian latitudes) are placed exactly.
//! * Coastlines (longitude/latitude polylines, any longitude convention) are drawn at every
//!   360-degree shift that meets the map, so -180..180 data fit a 0..360 map and back.
//! * Speed (the render is benchmarked against matplotlib): land is filled along its rows
//!   before tracing (no rings around every coast to drop), each level is traced only on the
//!   runs of rows that can cross it, and all contours are one path and all coasts another,
//!   stroked thinner than a pixel (`tiny-skia` hairlines) with miter joins (round joins on
//!   thousands of coastline vertices cost several milliseconds).
//! * Coastlines are stroked once per geometry, not once per map: their stroke depends only
//!   on the polylines, the map's extent and pixel rectangle, the line width and the canvas
//!   width, the same for every map a run draws of one grid (dozens). `tiny-skia` strokes
//!   them on a transparent layer, whose alpha is kept per thread as a sparse list (pixel
//!   index, coverage; 28 000 pixels for the 1:110m coasts on a global map) and blended on
//!   each map: about 0.25 ms instead of 2.4 ms (hairlines go through `tiny-skia`'s raster
//!   pipeline a pixel pair at a time). Blending the coverage once rounds differently from
//!   stroking onto the map (overlapping segments are blended one after another there): at
//!   most 4 in 255 on coast pixels. The key holds the polylines by `Weak` pointer, so their
//!   allocation cannot be reused for other coasts while the entry lives.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use super::{Extent, Layout, PixelCells, Polylines};
use crate::render::canvas::{Canvas, Pen, BLACK};
use tiny_skia::PathBuilder;

/// Contour line width and coastline width in pixels at the reference size (matplotlib's
/// 0.5 pt at 100 dpi is 0.69 px; slightly more reads better over cells).
const CONTOUR_WIDTH: f64 = 0.8;
pub const COAST_WIDTH: f64 = 0.95;
/// Coastline colour: near-black, so contours (black) and coasts read apart by width.
pub const COAST: [u8; 3] = [30, 30, 30];
/// Hatching colour and opacity.
const HATCH: [u8; 3] = [40, 40, 40];
const HATCH_ALPHA: f32 = 0.75;

/// Cell-centre longitudes of a periodic grid with the last column repeated before the first
/// and the first after the last (shifted by 360 degrees), so lines cross the seam.
fn wrapped(c: &[f64]) -> Vec<f64> {
    let n = c.len();
    let mut out = Vec::with_capacity(n + 2);
    out.push(c[n - 1] - 360.0);
    out.extend_from_slice(c);
    out.push(c[0] + 360.0);
    out
}

/// `grid` (`nx` columns) with each NaN replaced by the mean of the nearest finite values
/// left and right in its row (rows without any: the nearest such row above or below).
/// Only for speed: `contour` would otherwise build rings around every coast at every
/// level, several times the isolines' own segments, all of them dropped afterwards.
fn filled(grid: &[f64], nx: usize) -> Vec<f64> {
    let mut out = grid.to_vec();
    let mut empty = Vec::new();
    for (r, row) in out.chunks_exact_mut(nx).enumerate() {
        let mut left = vec![f64::NAN; nx];
        let mut last = f64::NAN;
        for (l, &v) in left.iter_mut().zip(row.iter()) {
            last = if v.is_finite() { v } else { last };
            *l = last;
        }
        let mut next = f64::NAN;
        for (v, &l) in row.iter_mut().zip(&left).rev() {
            if v.is_finite() {
                next = *v;
            } else {
                *v = match (l.is_finite(), next.is_finite()) {
                    (true, true) => (l + next) / 2.0,
                    (true, false) => l,
                    _ => next,
                };
            }
        }
        if row[0].is_nan() {
            empty.push(r);
        }
    }
    let full: Vec<usize> = (0..grid.len() / nx)
        .filter(|r| !empty.contains(r))
        .collect();
    for r in empty {
        if let Some(&src) = full.iter().min_by_key(|&&f| f.abs_diff(r)) {
            out.copy_within(src * nx..(src + 1) * nx, r * nx);
        }
    }
    out
}

/// Coordinate of the grid-index position `g` (sample `i` at `i + 0.5`) on axis `c`.
fn at(c: &[f64], g: f64) -> f64 {
    let f = (g - 0.5).clamp(0.0, (c.len() - 1) as f64);
    let i = (f.floor() as usize).min(c.len() - 2);
    c[i] + (f - i as f64) * (c[i + 1] - c[i])
}

/// Contour lines of `values` at `levels`, black, clipped to the map.
pub(super) fn draw_contours(
    cv: &mut Canvas,
    (lat, lon): (&[f64], &[f64]),
    values: &[f32],
    levels: &[f64],
    ext: &Extent,
    lay: &Layout,
) {
    let (nlat, nlon) = (lat.len(), lon.len());
    let (xs, nx) = match ext.periodic {
        true => (wrapped(lon), nlon + 2),
        false => (lon.to_vec(), nlon),
    };
    let mut grid = Vec::with_capacity(nx * nlat);
    for row in values.chunks_exact(nlon) {
        if ext.periodic {
            grid.push(row[nlon - 1] as f64);
        }
        grid.extend(row.iter().map(|&v| v as f64));
        if ext.periodic {
            grid.push(row[0] as f64);
        }
    }
    let filled = filled(&grid, nx);
    // A segment is kept when the 2x2 block of samples it crosses (rows `by`, `by + 1` of
    // the band `rows`) is inside the band and finite: `contour` closes its rings around NaN
    // and along the border of the grid it is given.
    let finite = |bx: f64, by: f64, rows: &std::ops::Range<usize>| {
        let (bx, by) = (bx as isize, by as isize + rows.start as isize);
        bx >= 0
            && by >= rows.start as isize
            && bx + 1 < nx as isize
            && by + 1 < rows.end as isize
            && {
                let k = by as usize * nx + bx as usize;
                [k, k + 1, k + nx, k + nx + 1]
                    .iter()
                    .all(|&k| grid[k].is_finite())
            }
    };
    // Each level is traced on the runs of rows whose blocks may cross it (a few rows for
    // most levels of a zonal field: `contour` scans every cell of what it is given).
    let bounds: Vec<(f64, f64)> = filled
        .chunks_exact(nx)
        .map(|r| {
            r.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                })
        })
        .collect();
    let bands = |level: f64| {
        let may = |r: usize| {
            let (a, b) = (bounds[r], bounds[r + 1]);
            a.0.min(b.0) <= level && a.1.max(b.1) >= level
        };
        // Runs of block rows that may cross, as rows (a run ends a row below its last block).
        let mut out = Vec::new();
        let mut r = 0;
        while r + 1 < nlat {
            let first = r;
            while r + 1 < nlat && may(r) {
                r += 1;
            }
            if r > first {
                out.push(first..r + 1);
            }
            r += 1;
        }
        out
    };
    // The isolines of each level as pixel polylines clipped to the map; stroked together.
    let rect = lay.rect();
    let pieces: Vec<Vec<(f64, f64)>> = levels
        .iter()
        .flat_map(|&level| bands(level).into_iter().map(move |rows| (level, rows)))
        .flat_map(|(level, rows)| {
            let (mut run, mut out) = (Vec::new(), Vec::new());
            let builder = contour::ContourBuilder::new(nx, rows.len(), true);
            let part = &filled[rows.start * nx..rows.end * nx];
            let lines = builder.lines(part, &[level]);
            for ls in lines.iter().flatten().flat_map(|l| &l.geometry().0) {
                for seg in ls.0.windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    let (mx, my) = ((a.x + b.x) / 2.0 - 0.5, (a.y + b.y) / 2.0 - 0.5);
                    if !finite(mx.floor(), my.floor(), &rows) {
                        clip(&mut run, rect, &mut out);
                        continue;
                    }
                    let y0 = rows.start as f64;
                    let to_px = |p: contour::Pt| ext.to_px(lay, at(&xs, p.x), at(lat, p.y + y0));
                    if run.is_empty() {
                        run.push(to_px(a));
                    }
                    run.push(to_px(b));
                }
                clip(&mut run, rect, &mut out);
            }
            out
        })
        .collect();
    stroke_pieces(cv, &pieces, BLACK, CONTOUR_WIDTH * lay.m.k);
}

/// The parts of the polyline `run` inside `rect` (x0, y0, x1, y1), pushed to `out`; `run`
/// is emptied. Segments are clipped by Liang-Barsky.
fn clip(run: &mut Vec<(f64, f64)>, rect: [f64; 4], out: &mut Vec<Vec<(f64, f64)>>) {
    let mut piece: Vec<(f64, f64)> = Vec::new();
    let mut flush = |piece: &mut Vec<(f64, f64)>| {
        if piece.len() >= 2 {
            out.push(std::mem::take(piece));
        }
        piece.clear();
    };
    for s in run.windows(2) {
        let (a, b) = (s[0], s[1]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let sides = [
            (-dx, a.0 - rect[0]),
            (dx, rect[2] - a.0),
            (-dy, a.1 - rect[1]),
            (dy, rect[3] - a.1),
        ];
        let inside = sides.iter().all(|&(p, q)| {
            if p == 0.0 {
                return q >= 0.0;
            }
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            t0 <= t1
        });
        if !inside {
            flush(&mut piece);
            continue;
        }
        let (p, q) = (
            (a.0 + t0 * dx, a.1 + t0 * dy),
            (a.0 + t1 * dx, a.1 + t1 * dy),
        );
        if piece.last() != Some(&p) {
            flush(&mut piece);
            piece.push(p);
        }
        piece.push(q);
    }
    flush(&mut piece);
    run.clear();
}

/// Stroke the polylines `pieces` solid in `c`, `width` pixels wide, with butt caps and miter
/// joins, as one path: one stroke for all of them is much faster than one per piece, and
/// miter joins than round ones on thousands of vertices.
fn stroke_pieces(cv: &mut Canvas, pieces: &[Vec<(f64, f64)>], c: [u8; 3], width: f64) {
    let mut pb = PathBuilder::new();
    for p in pieces {
        if let [first, rest @ ..] = &p[..] {
            pb.move_to(first.0 as f32, first.1 as f32);
            rest.iter().for_each(|p| pb.line_to(p.0 as f32, p.1 as f32));
        }
    }
    if let Some(path) = pb.finish() {
        let pen = Pen {
            round: false,
            ..Pen::solid(c, width)
        };
        cv.stroke(&path, &pen);
    }
}

/// `coast` split where a polyline runs along or jumps across the antimeridian or runs south
/// of -84.5: the cuts of the land polygons, not coasts (Natural Earth closes Antarctica at
/// -85.6 or -90; its real coast, ice fronts included, stays north of -80). In degrees, as
/// drawn on the maps (the matplotlib reference of `make bench` draws these too).
pub fn split_coastlines(coast: &Polylines) -> Polylines {
    let cut = |a: (f64, f64), b: (f64, f64)| {
        ((a.0.abs() - 180.0).abs() < 0.01 && a.0 == b.0)
            || (a.0 - b.0).abs() > 180.0
            || (a.1 <= -84.5 && b.1 <= -84.5)
    };
    let mut out = Vec::new();
    for line in coast {
        let mut piece: Vec<(f64, f64)> = Vec::with_capacity(line.len());
        for (k, &p) in line.iter().enumerate() {
            if k > 0 && cut(line[k - 1], p) {
                if piece.len() >= 2 {
                    out.push(std::mem::take(&mut piece));
                }
                piece.clear();
            }
            piece.push(p);
        }
        if piece.len() >= 2 {
            out.push(piece);
        }
    }
    out
}

/// What the coastline layer of a map depends on: the polylines (by identity: the cache
/// holds a `Weak`, so their allocation is not reused while the entry lives), the map's
/// extent in degrees and rectangle in pixels, the line width, and the canvas width.
struct CoastKey {
    lines: Weak<Polylines>,
    geometry: [f64; 10],
}

impl CoastKey {
    fn of(coast: &Arc<Polylines>, ext: &Extent, lay: &Layout, width: f64, canvas_w: i32) -> Self {
        let r = lay.rect();
        Self {
            lines: Arc::downgrade(coast),
            geometry: [
                ext.x0,
                ext.x1,
                ext.y0,
                ext.y1,
                r[0],
                r[1],
                r[2],
                r[3],
                width,
                canvas_w as f64,
            ],
        }
    }

    fn same(&self, other: &Self) -> bool {
        self.lines.ptr_eq(&other.lines) && self.geometry == other.geometry
    }
}

/// Coverage maps kept per thread (see [`draw_coastlines`]); a few, for runs that draw maps
/// of several grids or sizes.
const COAST_CACHE: usize = 4;

/// A layer's coverage: (pixel index, alpha) of the pixels drawn on.
type Coverage = Rc<[(u32, u8)]>;

thread_local! {
    static COVERAGE: RefCell<Vec<(CoastKey, Coverage)>> = const { RefCell::new(Vec::new()) };
}

/// Longitude/latitude polylines, e.g. coastlines, drawn over the map at every 360-degree
/// shift that meets it, split at the polygon cuts ([`split_coastlines`]).
///
/// The coverage of the stroke (pixel index, 8-bit coverage) is computed once per geometry
/// and thread and blended into each figure: see the module doc.
pub(super) fn draw_coastlines(cv: &mut Canvas, coast: &Arc<Polylines>, ext: &Extent, lay: &Layout) {
    let width = COAST_WIDTH * lay.m.k.max(0.8);
    let key = CoastKey::of(coast, ext, lay, width, cv.w);
    let cached = COVERAGE.with(|c| {
        let c = c.borrow();
        c.iter().find(|(k, _)| k.same(&key)).map(|(_, v)| v.clone())
    });
    let cover = cached.unwrap_or_else(|| {
        let cover: Coverage = coast_coverage(coast, ext, lay, width, (cv.w, cv.h)).into();
        COVERAGE.with(|c| {
            let mut c = c.borrow_mut();
            c.retain(|(k, _)| k.lines.strong_count() > 0);
            if c.len() >= COAST_CACHE {
                c.remove(0);
            }
            c.push((key, cover.clone()));
        });
        cover
    });
    cv.blend_coverage(&cover, COAST);
}

/// The coverage of the coastlines stroked `width` pixels wide on a `size` canvas: the
/// pixels they touch, as (index, coverage) in row-major order.
fn coast_coverage(
    coast: &Polylines,
    ext: &Extent,
    lay: &Layout,
    width: f64,
    (w, h): (i32, i32),
) -> Vec<(u32, u8)> {
    let mut pieces = Vec::new();
    let (lo, hi) = (ext.x0, ext.x1);
    for line in split_coastlines(coast) {
        let (mut west, mut east) = (f64::INFINITY, f64::NEG_INFINITY);
        line.iter()
            .for_each(|p| (west, east) = (west.min(p.0), east.max(p.0)));
        for shift in [-360.0, 0.0, 360.0] {
            if east + shift < lo || west + shift > hi {
                continue;
            }
            let mut run: Vec<(f64, f64)> = line
                .iter()
                .map(|p| ext.to_px(lay, p.0 + shift, p.1))
                .collect();
            clip(&mut run, lay.rect(), &mut pieces);
        }
    }
    let mut layer = Canvas::layer(w as u32, h as u32);
    stroke_pieces(&mut layer, &pieces, BLACK, width);
    layer.coverage()
}

/// Diagonal hatching (`/`, anti-aliased by the distance to each pixel centre) over the cells
/// flagged in `hatched`.
pub(super) fn hatch_cells(cv: &mut Canvas, hatched: &[bool], cells: &PixelCells, lay: &Layout) {
    let spacing = (9.0 * lay.m.k).max(4.0);
    let hw = 0.5 * (0.9 * lay.m.k).max(0.7);
    for (r, &i) in cells.row.iter().enumerate() {
        for (c, &j) in cells.col.iter().enumerate() {
            if !hatched[i * cells.nlon + j] {
                continue;
            }
            // Distance from the pixel centre to the nearest line x + y = n * spacing.
            let u = (c as f64 + r as f64 + 1.0).rem_euclid(spacing);
            let d = u.min(spacing - u) / std::f64::consts::SQRT_2;
            let a = (hw + 0.5 - d).clamp(0.0, 1.0) as f32;
            if a > 0.0 {
                cv.blend(lay.x0 + c as i32, lay.y0 + r as i32, HATCH, a * HATCH_ALPHA);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::heatmap::{render_heatmap, HeatmapStyle};

    /// Polylines are cut where they run along or jump across the antimeridian and along the
    /// bottom of Antarctica; pieces of one point are dropped.
    #[test]
    fn coastlines_are_split_at_polygon_cuts() {
        let coast = vec![
            vec![(170.0, 10.0), (180.0, 10.0), (180.0, 20.0), (170.0, 20.0)],
            vec![(179.0, 0.0), (-179.0, 1.0), (-170.0, 2.0)],
            vec![(0.0, -70.0), (0.0, -85.0), (10.0, -85.0), (10.0, -70.0)],
        ];
        assert_eq!(
            split_coastlines(&coast),
            vec![
                vec![(170.0, 10.0), (180.0, 10.0)],
                vec![(180.0, 20.0), (170.0, 20.0)],
                vec![(-179.0, 1.0), (-170.0, 2.0)],
                vec![(0.0, -70.0), (0.0, -85.0)],
                vec![(10.0, -85.0), (10.0, -70.0)],
            ]
        );
    }

    /// The coastline coverage blended from the per-thread cache is the one computed afresh:
    /// the same map drawn twice (the second from the cache), with the same coastlines in a
    /// new allocation (a miss), and at another size (another key) in between, gives the
    /// same bytes each time.
    #[test]
    fn cached_coastlines_draw_the_same_pixels() {
        let lat: Vec<f64> = (0..30).map(|i| 29.0 - 2.0 * i as f64).collect();
        let lon: Vec<f64> = (0..60).map(|j| -59.0 + 2.0 * j as f64).collect();
        let values: Vec<f32> = (0..lat.len() * lon.len())
            .map(|k| 10.0 + (k % 60) as f32 * 0.2 - (k / 60) as f32 * 0.1)
            .collect();
        let ring: Polylines = vec![(0..40)
            .map(|k| {
                let t = k as f64 * std::f64::consts::TAU / 39.0;
                (-10.0 + 25.0 * t.cos(), 5.0 + 15.0 * t.sin())
            })
            .collect()];
        let style = |coast: &Arc<Polylines>, width: u32| HeatmapStyle {
            coastlines: Some(coast.clone()),
            width,
            height: 500,
            vmin: 0.0,
            vmax: 30.0,
            ..HeatmapStyle::default()
        };
        let draw = |s: &HeatmapStyle| render_heatmap(&lat, &lon, &values, s).unwrap();
        let coast = Arc::new(ring.clone());
        let first = draw(&style(&coast, 900));
        let other = draw(&style(&coast, 800));
        assert_eq!(draw(&style(&coast, 900)), first);
        // Two geometries kept: the third map was a hit.
        assert_eq!(COVERAGE.with(|c| c.borrow().len()), 2);
        assert_eq!(draw(&style(&Arc::new(ring), 900)), first);
        assert_ne!(other, first);
        let none = HeatmapStyle {
            coastlines: None,
            ..style(&coast, 900)
        };
        assert_ne!(draw(&none), first, "the coastlines are drawn");
    }
}
