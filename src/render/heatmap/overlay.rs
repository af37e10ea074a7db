//! What a map draws over its cells: contour lines (isolines by georust `contour`), coastlines,
//! and hatching, all anti-aliased by `tiny-skia` and clipped to the map.
//!
//! Why this way:
//! * `contour` (a port of d3-contour) treats the grid as closed: outside it, and at NaN, the
//!   field counts as below every level, so lines would run around the grid's border and
//!   around every coast at every level. So the grid is padded by one cell on each side
//!   (wrapped columns on a periodic grid, so lines cross the dateline; repeated edges
//!   otherwise), land is filled from its ocean neighbours (two passes of neighbour means,
//!   then the ocean mean), and the lines are clipped to the ocean cells' pixels: they stop
//!   at the coast, where matplotlib's stop half a cell earlier.
//! * The isolines come in grid-index coordinates (sample `i` at `i + 0.5`, crossings placed
//!   by linear interpolation); they are mapped to degrees through the cell centres, so
//!   non-uniform grids (Gaussian latitudes) are placed exactly.
//! * Coastlines (longitude/latitude polylines, any longitude convention) are drawn at every
//!   360-degree shift that meets the map, so -180..180 data fit a 0..360 map and back.

use super::{Extent, Layout, PixelCells};
use crate::render::canvas::{polyline, Canvas, Pen};
use tiny_skia::Mask;

/// Contour line width and coastline width in pixels at the reference size (matplotlib's
/// 0.5 pt at 100 dpi is 0.69 px; slightly more reads better over cells).
const CONTOUR_WIDTH: f64 = 0.8;
const COAST_WIDTH: f64 = 1.1;
/// Coastline colour: near-black, so contours (black) and coasts read apart by width.
const COAST: [u8; 3] = [30, 30, 30];
/// Hatching colour and opacity.
const HATCH: [u8; 3] = [40, 40, 40];
const HATCH_ALPHA: f32 = 0.75;

/// Where a map's pixels are: the map rectangle (`all`) and its cells with a finite value.
pub(super) struct Masks {
    pub(super) all: Mask,
    pub(super) ocean: Mask,
}

impl Masks {
    pub(super) fn new(cv: &Canvas, lay: &Layout, cells: &PixelCells, values: &[f32]) -> Self {
        let all = cv.rect_mask(lay.x0, lay.y0, lay.mw, lay.mh);
        let mut ocean = all.clone();
        let w = cv.w as usize;
        let data = ocean.data_mut();
        for (r, &i) in cells.row.iter().enumerate() {
            let row = (lay.y0 as usize + r) * w + lay.x0 as usize;
            for (c, &j) in cells.col.iter().enumerate() {
                if !values[i * cells.nlon + j].is_finite() {
                    data[row + c] = 0;
                }
            }
        }
        Self { all, ocean }
    }
}

/// Padded cell-centre coordinates of one axis: one more centre on each side.
fn padded_axis(c: &[f64], periodic: bool) -> Vec<f64> {
    let n = c.len();
    let (before, after) = if periodic {
        (c[n - 1] - 360.0, c[0] + 360.0)
    } else {
        (2.0 * c[0] - c[1], 2.0 * c[n - 1] - c[n - 2])
    };
    let mut out = Vec::with_capacity(n + 2);
    out.push(before);
    out.extend_from_slice(c);
    out.push(after);
    out
}

/// `values` padded by one cell on each side (wrapped or repeated columns, repeated rows),
/// land filled so lines reach the coast; `None` when no value is finite.
fn padded_field(values: &[f32], nlat: usize, nlon: usize, periodic: bool) -> Option<Vec<f64>> {
    let (nx, ny) = (nlon + 2, nlat + 2);
    let mut g = Vec::with_capacity(nx * ny);
    for r in 0..ny {
        let row = &values[r.saturating_sub(1).min(nlat - 1) * nlon..][..nlon];
        let (first, last) = if periodic {
            (row[nlon - 1], row[0])
        } else {
            (row[0], row[nlon - 1])
        };
        g.push(first as f64);
        g.extend(row.iter().map(|&v| v as f64));
        g.push(last as f64);
    }
    let finite: Vec<f64> = g.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    for _ in 0..2 {
        let prev = g.clone();
        for (k, v) in g.iter_mut().enumerate().filter(|(_, v)| v.is_nan()) {
            let (r, c) = (k / nx, k % nx);
            let near = [
                (r > 0).then(|| prev[k - nx]),
                (r + 1 < ny).then(|| prev[k + nx]),
                (c > 0).then(|| prev[k - 1]),
                (c + 1 < nx).then(|| prev[k + 1]),
            ];
            let near: Vec<f64> = near
                .into_iter()
                .flatten()
                .filter(|v| v.is_finite())
                .collect();
            if !near.is_empty() {
                *v = near.iter().sum::<f64>() / near.len() as f64;
            }
        }
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    g.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = mean);
    Some(g)
}

/// Coordinate of the grid-index position `g` (sample `i` at `i + 0.5`) on axis `c`.
fn at(c: &[f64], g: f64) -> f64 {
    let f = (g - 0.5).clamp(0.0, (c.len() - 1) as f64);
    let i = (f.floor() as usize).min(c.len() - 2);
    c[i] + (f - i as f64) * (c[i + 1] - c[i])
}

/// Contour lines of `values` at `levels`, black, clipped to the ocean cells.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_contours(
    cv: &mut Canvas,
    (lat, lon): (&[f64], &[f64]),
    values: &[f32],
    levels: &[f64],
    ext: &Extent,
    lay: &Layout,
    masks: &Masks,
) {
    let (nlat, nlon) = (lat.len(), lon.len());
    let Some(grid) = padded_field(values, nlat, nlon, ext.periodic) else {
        return;
    };
    let (xs, ys) = (padded_axis(lon, ext.periodic), padded_axis(lat, false));
    let builder = contour::ContourBuilder::new(nlon + 2, nlat + 2, true);
    let Ok(lines) = builder.lines(&grid, levels) else {
        return;
    };
    let pen = Pen::solid(super::super::canvas::BLACK, CONTOUR_WIDTH * lay.m.k);
    for line in &lines {
        for ls in &line.geometry().0 {
            let pts: Vec<(f64, f64)> =
                ls.0.iter()
                    .map(|p| ext.to_px(lay, at(&xs, p.x), at(&ys, p.y)))
                    .collect();
            if let Some(path) = polyline(&pts, (0.0, 0.0)) {
                cv.stroke(&path, &pen, Some(&masks.ocean));
            }
        }
    }
}

/// Longitude/latitude polylines, e.g. coastlines, drawn over the map at every 360-degree
/// shift that meets it; a polyline is split where it runs along or jumps across the
/// antimeridian or runs south of -84.5 (the cuts of polygons, not coasts).
pub(super) fn draw_coastlines(
    cv: &mut Canvas,
    coast: &[Vec<(f64, f64)>],
    ext: &Extent,
    lay: &Layout,
    masks: &Masks,
) {
    let pen = Pen::solid(COAST, COAST_WIDTH * lay.m.k.max(0.8));
    // Polygon cuts, not coasts: along the antimeridian, across it, and along the bottom of
    // Antarctica (Natural Earth closes it at -85.6 or -90; its real coast, ice fronts
    // included, stays north of -80).
    let cut = |a: (f64, f64), b: (f64, f64)| {
        ((a.0.abs() - 180.0).abs() < 0.01 && a.0 == b.0)
            || (a.0 - b.0).abs() > 180.0
            || (a.1 <= -84.5 && b.1 <= -84.5)
    };
    let (lo, hi) = (ext.x0, ext.x1);
    for line in coast {
        let (mut west, mut east) = (f64::INFINITY, f64::NEG_INFINITY);
        line.iter()
            .for_each(|p| (west, east) = (west.min(p.0), east.max(p.0)));
        for shift in [-360.0, 0.0, 360.0] {
            if east + shift < lo || west + shift > hi {
                continue;
            }
            let mut piece: Vec<(f64, f64)> = Vec::with_capacity(line.len());
            for (k, &p) in line.iter().enumerate() {
                if k > 0 && cut(line[k - 1], p) {
                    stroke_piece(cv, &piece, &pen, masks);
                    piece.clear();
                }
                piece.push(ext.to_px(lay, p.0 + shift, p.1));
            }
            stroke_piece(cv, &piece, &pen, masks);
        }
    }
}

fn stroke_piece(cv: &mut Canvas, piece: &[(f64, f64)], pen: &Pen, masks: &Masks) {
    if let Some(path) = polyline(piece, (0.0, 0.0)) {
        cv.stroke(&path, pen, Some(&masks.all));
    }
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
