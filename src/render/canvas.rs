//! The canvas every figure is drawn on: a `tiny-skia` pixmap, white and opaque, with the few
//! operations the figures need (pixel-exact rectangles, per-pixel blending for glyphs and
//! hatching, anti-aliased path stroke and fill) and its PNG encoding.
//!
//! Why `tiny-skia`: anti-aliased stroking (joins, caps, dashes) and polygon filling are what
//! a plotting backend does and what resvg relies on; the figures only decide where things go.
//! Rectangles stay pixel-exact (frames, ticks and grid lines are snapped to whole pixels, as
//! matplotlib's Agg does), so they are written directly. The pixmap is premultiplied RGBA;
//! the canvas is opaque throughout, so the PNG is written as RGB8 (`image`'s encoder: fast
//! deflate, Paeth on every row, which measured faster and smaller than adaptive filtering).

use std::cell::RefCell;
use tiny_skia::{
    FillRule, IntSize, LineCap, LineJoin, Paint, Path, PathBuilder, Pixmap, Stroke, StrokeDash,
    Transform,
};

pub(crate) const BLACK: [u8; 3] = [0, 0, 0];
pub(crate) const WHITE: [u8; 3] = [255, 255, 255];

thread_local! {
    /// The pixel and RGB buffers of this thread's last encoded figure, reused by the next
    /// [`Canvas::new`]: a figure is megabytes, and fresh allocations cost page faults and
    /// kernel zeroing on every render (a fifth of the render time when measured).
    static SPARE: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// An opaque RGBA image being drawn.
pub(crate) struct Canvas {
    pub(crate) w: i32,
    pub(crate) h: i32,
    pub(crate) pm: Pixmap,
}

/// How a path is stroked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pen {
    pub(crate) color: [u8; 3],
    pub(crate) alpha: f32,
    pub(crate) width: f64,
    /// `(on, off)` lengths in pixels; `None` = solid.
    pub(crate) dash: Option<(f64, f64)>,
    /// Round caps (solid lines) and joins instead of butt caps and miter joins (which
    /// stroke long polylines such as coastlines several times faster).
    pub(crate) round: bool,
}

impl Pen {
    pub(crate) fn solid(color: [u8; 3], width: f64) -> Self {
        Self {
            color,
            alpha: 1.0,
            width,
            dash: None,
            round: true,
        }
    }
}

/// The path through `pts`, offset by `(dx, dy)`; `None` with fewer than two points.
pub(crate) fn polyline(pts: &[(f64, f64)], (dx, dy): (f64, f64)) -> Option<Path> {
    let mut pb = PathBuilder::new();
    let (first, rest) = pts.split_first()?;
    pb.move_to((first.0 + dx) as f32, (first.1 + dy) as f32);
    for p in rest {
        pb.line_to((p.0 + dx) as f32, (p.1 + dy) as f32);
    }
    pb.finish()
}

fn paint(c: [u8; 3], alpha: f32) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(
        c[0],
        c[1],
        c[2],
        (alpha.clamp(0.0, 1.0) * 255.0).round() as u8,
    );
    p.anti_alias = true;
    p
}

impl Canvas {
    /// A white `w` x `h` canvas (sizes are checked by the callers: 64..=8192).
    pub(crate) fn new(w: u32, h: u32) -> Self {
        let mut px = SPARE.with(|s| std::mem::take(&mut s.borrow_mut().0));
        px.clear();
        px.resize(w as usize * h as usize * 4, 255);
        let size = IntSize::from_wh(w, h).expect("figure size checked by the caller");
        let pm = Pixmap::from_vec(px, size).expect("buffer of the figure's size");
        Self {
            w: w as i32,
            h: h as i32,
            pm,
        }
    }

    /// A transparent `w` x `h` layer, drawn on with [`Canvas::stroke`] and [`Canvas::fill`]
    /// and composited with [`Canvas::draw_layer`].
    pub(crate) fn layer(w: u32, h: u32) -> Self {
        let pm = Pixmap::new(w.max(1), h.max(1)).expect("layer inside a checked figure");
        Self {
            w: w as i32,
            h: h as i32,
            pm,
        }
    }

    /// Composite `layer` (source over) with its top-left corner at `(x, y)`.
    pub(crate) fn draw_layer(&mut self, layer: &Canvas, x: i32, y: i32) {
        let paint = tiny_skia::PixmapPaint::default();
        let id = Transform::identity();
        self.pm
            .draw_pixmap(x, y, layer.pm.as_ref(), &paint, id, None);
    }

    /// Fill the half-open rectangle `[x0, x1) x [y0, y1)`, clipped, pixel-exact.
    pub(crate) fn fill_rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: [u8; 3]) {
        let (x0, x1) = (x0.max(0), x1.min(self.w));
        let w = self.w;
        let px = self.pm.data_mut();
        for y in y0.max(0)..y1.min(self.h) {
            for x in x0..x1 {
                let i = (y * w + x) as usize * 4;
                px[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    /// Alpha-blend colour `c` with coverage `a` at `(x, y)`, clipped.
    pub(crate) fn blend(&mut self, x: i32, y: i32, c: [u8; 3], a: f32) {
        if x < 0 || y < 0 || x >= self.w || y >= self.h || a <= 0.0 {
            return;
        }
        let a = a.min(1.0);
        let i = (y * self.w + x) as usize * 4;
        for (p, &q) in self.pm.data_mut()[i..i + 3].iter_mut().zip(&c) {
            *p = (*p as f32 * (1.0 - a) + q as f32 * a).round() as u8;
        }
    }

    /// The pixels of a layer that anything was drawn on, as (index, alpha) in row-major
    /// order: the coverage of what was drawn in an opaque colour.
    pub(crate) fn coverage(&self) -> Vec<(u32, u8)> {
        let px = self.pm.data();
        (0..px.len() / 4)
            .filter_map(|i| {
                let a = px[4 * i + 3];
                (a > 0).then_some((i as u32, a))
            })
            .collect()
    }

    /// Blend colour `c` over the pixels of `cover` (index, coverage; from [`Canvas::coverage`]
    /// of a layer of this canvas's size): what drawing the layer's shapes in `c` here does,
    /// up to rounding.
    pub(crate) fn blend_coverage(&mut self, cover: &[(u32, u8)], c: [u8; 3]) {
        let px = self.pm.data_mut();
        for &(i, a) in cover {
            let (a, i) = (a as u32, i as usize * 4);
            for (p, &q) in px[i..i + 3].iter_mut().zip(&c) {
                // (p (255 - a) + q a) / 255, rounded.
                let v = *p as u32 * (255 - a) + q as u32 * a + 128;
                *p = ((v + (v >> 8)) >> 8) as u8;
            }
        }
    }

    /// Stroke `path` with `pen`.
    pub(crate) fn stroke(&mut self, path: &Path, pen: &Pen) {
        let mut stroke = Stroke {
            width: pen.width as f32,
            line_join: if pen.round {
                LineJoin::Round
            } else {
                LineJoin::Miter
            },
            line_cap: if pen.round && pen.dash.is_none() {
                LineCap::Round
            } else {
                LineCap::Butt
            },
            ..Stroke::default()
        };
        stroke.dash = pen
            .dash
            .and_then(|(on, off)| StrokeDash::new(vec![on as f32, off as f32], 0.0));
        let paint = paint(pen.color, pen.alpha);
        self.pm
            .stroke_path(path, &paint, &stroke, Transform::identity(), None);
    }

    /// Fill `path` (non-zero winding) in `c` at opacity `alpha`.
    pub(crate) fn fill(&mut self, path: &Path, c: [u8; 3], alpha: f32) {
        let paint = paint(c, alpha);
        self.pm
            .fill_path(path, &paint, FillRule::Winding, Transform::identity(), None);
    }

    /// The PNG bytes of the canvas (8-bit RGB, fast deflate, Paeth filter on every row);
    /// the canvas's buffers are kept for the next figure on this thread.
    pub(crate) fn encode_png(self) -> Result<Vec<u8>, String> {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        use image::ImageEncoder;
        let mut rgb = SPARE.with(|s| std::mem::take(&mut s.borrow_mut().1));
        rgb.resize(self.w as usize * self.h as usize * 3, 0);
        for (d, s) in rgb.chunks_exact_mut(3).zip(self.pm.data().chunks_exact(4)) {
            d.copy_from_slice(&s[..3]);
        }
        let mut out = Vec::with_capacity(rgb.len() / 8);
        let png = PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Paeth)
            .write_image(
                &rgb,
                self.w as u32,
                self.h as u32,
                image::ExtendedColorType::Rgb8,
            )
            .map_err(|e| format!("PNG encoding failed: {e}"));
        SPARE.with(|s| *s.borrow_mut() = (self.pm.take(), rgb));
        png.map(|()| out)
    }

    /// The canvas as an RGB image (tests).
    #[cfg(test)]
    pub(crate) fn rgb_image(&self) -> image::RgbImage {
        let rgb = self
            .pm
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]]);
        image::RgbImage::from_raw(self.w as u32, self.h as u32, rgb.collect()).unwrap()
    }
}
