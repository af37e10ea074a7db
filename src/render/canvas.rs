//! The RGB8 canvas every figure is drawn on: rectangles, alpha blending and coverage
//! buffers, nothing that knows about fonts, axes or files.
//!
//! Why a separate module: the map, its colorbar and the line charts are all rasterised into
//! the same kind of buffer, and the pixel arithmetic (rounding of blended channels included)
//! must be identical for all of them, so it lives here once. Text ([`super::text`]),
//! strokes ([`super::stroke`]) and PNG encoding ([`super::png`]) build on it.

use std::cell::RefCell;

pub(crate) const BLACK: [u8; 3] = [0, 0, 0];
pub(crate) const WHITE: [u8; 3] = [255, 255, 255];

/// An RGB8 image being drawn.
pub(crate) struct Canvas {
    pub(crate) w: i32,
    pub(crate) h: i32,
    /// Row-major RGB8 pixels.
    pub(crate) px: Vec<u8>,
}

thread_local! {
    /// The pixel buffer of this thread's last encoded figure, reused by the
    /// next [`Canvas::new`]: a figure is megabytes, and a fresh allocation
    /// costs page faults and kernel zeroing on every render.
    static SPARE_PIXELS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Canvas {
    /// A white `w` x `h` canvas.
    pub(crate) fn new(w: u32, h: u32) -> Self {
        let mut px = SPARE_PIXELS.with(|s| std::mem::take(&mut *s.borrow_mut()));
        px.clear();
        px.resize(w as usize * h as usize * 3, 255);
        Self {
            w: w as i32,
            h: h as i32,
            px,
        }
    }

    /// Hand the pixel buffer back for the next [`Canvas::new`] on this thread.
    pub(crate) fn recycle(self) {
        SPARE_PIXELS.with(|s| *s.borrow_mut() = self.px);
    }

    /// Fill the half-open rectangle `[x0, x1) x [y0, y1)`, clipped.
    pub(crate) fn fill_rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: [u8; 3]) {
        let (x0, x1) = (x0.max(0), x1.min(self.w));
        let (y0, y1) = (y0.max(0), y1.min(self.h));
        for y in y0..y1 {
            let row = (y * self.w) as usize * 3;
            for x in x0..x1 {
                let i = row + x as usize * 3;
                self.px[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    /// Alpha-blend colour `c` with coverage `a` at `(x, y)`, clipped.
    pub(crate) fn blend(&mut self, x: i32, y: i32, c: [u8; 3], a: f32) {
        if x < 0 || y < 0 || x >= self.w || y >= self.h || a <= 0.0 {
            return;
        }
        let a = a.min(1.0);
        let i = (y * self.w + x) as usize * 3;
        for (p, &q) in self.px[i..i + 3].iter_mut().zip(&c) {
            *p = (*p as f32 * (1.0 - a) + q as f32 * a).round() as u8;
        }
    }

    /// Blend colour `c` with the coverage buffer `cov` (`w` pixels per row)
    /// whose top-left pixel lands on `(x0, y0)`.
    pub(crate) fn blend_coverage(&mut self, cov: &[f32], w: usize, x0: i32, y0: i32, c: [u8; 3]) {
        if w == 0 {
            return;
        }
        for (r, row) in cov.chunks_exact(w).enumerate() {
            for (col, &a) in row.iter().enumerate() {
                if a > 0.0 {
                    self.blend(x0 + col as i32, y0 + r as i32, c, a);
                }
            }
        }
    }
}

/// `v.round()` (half away from zero), without the libm call `f32::round`
/// compiles to on baseline x86-64 (no SSE4.1), for the contour blending's
/// three channels per pixel. Exact for `0 <= v < 2^31`, where `v - trunc(v)`
/// is exact; other values take `f32::round`.
#[inline]
pub(crate) fn round_half_away(v: f32) -> f32 {
    if (0.0..2_147_483_648.0).contains(&v) {
        let t = v as i32 as f32;
        t + f32::from(u8::from(v - t >= 0.5))
    } else {
        v.round()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_away_is_round() {
        for i in 0..=(256 * 4096) {
            let v = i as f32 / 4096.0;
            assert_eq!(round_half_away(v).to_bits(), v.round().to_bits(), "{v}");
            let below = f32::from_bits(v.to_bits().saturating_sub(1));
            assert_eq!(round_half_away(below), below.round(), "{below}");
        }
        assert_eq!(round_half_away(0.49999997), 0.0);
        assert_eq!(round_half_away(-2.5), -3.0);
    }
}
