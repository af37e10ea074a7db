//! Text in figures: the embedded DejaVu Sans at a size ([`Font`]), glyphs blended onto the
//! [`Canvas`] (horizontal or rotated), and tick-label text with exponents ([`LabelFont`]).
//!
//! Why: the pipeline must not depend on system fonts, and plotters' text path drops each
//! glyph's left side bearing and truncates positions, which visibly garbles letter spacing
//! ("SS T"). So glyphs are rasterised with `ab_glyph` (DejaVu Sans embedded through the
//! `dejavu` crate) at sub-pixel positions with side bearings and kerning, and blended into
//! our own buffer. Exponents (`10⁻³`) are set in a smaller size and raised, like matplotlib's
//! mathtext, because the font's own superscript glyphs are tiny and sit too low.

use super::canvas::{Canvas, BLACK};
use ab_glyph::{point, Font as _, FontRef, GlyphId, PxScale, ScaleFont as _};
use std::sync::OnceLock;

/// Cap height (and digit height) of DejaVu Sans in em (1493 / 2048 units).
pub(crate) const CAP: f64 = 1493.0 / 2048.0;

/// The embedded DejaVu Sans, parsed once.
pub(crate) fn dejavu_sans() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu::sans::regular()).ok())
        .as_ref()
}

/// DejaVu Sans at one size.
pub(crate) struct Font {
    pub(crate) face: &'static FontRef<'static>,
    pub(crate) scale: PxScale,
    /// Size of one em in pixels (matplotlib's font size: 10 pt at 100 dpi = 13.9 px).
    pub(crate) em: f64,
}

impl Font {
    pub(crate) fn new(em: f64) -> Result<Self, String> {
        let face = dejavu_sans().ok_or("cannot load the embedded DejaVu Sans font")?;
        let upem = face.units_per_em().ok_or("font has no units per em")? as f64;
        let em = em.max(4.0);
        let scale = PxScale::from((em * face.height_unscaled() as f64 / upem) as f32);
        Ok(Self { face, scale, em })
    }

    /// Glyphs of `text` with the pen position (pixels from the start, kerning applied) at
    /// which each is drawn, and the total advance width. Drawing and measuring share it.
    pub(crate) fn layout(&self, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
        let scaled = self.face.as_scaled(self.scale);
        let mut pen = 0f32;
        let mut prev = None;
        let mut glyphs = Vec::with_capacity(text.len());
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            prev = Some(id);
            glyphs.push((id, pen));
            pen += scaled.h_advance(id);
        }
        (glyphs, pen)
    }

    /// Advance width of `text` in pixels.
    pub(crate) fn width(&self, text: &str) -> f64 {
        self.layout(text).1 as f64
    }

    /// Height of capitals and digits in pixels.
    pub(crate) fn cap(&self) -> f64 {
        self.em * CAP
    }
}

impl Canvas {
    /// Draw `text` with its baseline starting at `(x, baseline)`. When
    /// `rotated`, the text runs bottom-to-top (matplotlib `rotation=90`,
    /// glyph tops facing left) and the roles swap: `x` is the *row* where the
    /// text starts and `baseline` the baseline *column*.
    pub(crate) fn text(&mut self, font: &Font, text: &str, x: f64, baseline: f64, rotated: bool) {
        self.text_rgb(font, text, x, baseline, rotated, BLACK);
    }

    /// [`Canvas::text`] in colour `c`.
    pub(crate) fn text_rgb(
        &mut self,
        font: &Font,
        text: &str,
        x: f64,
        baseline: f64,
        rotated: bool,
        c: [u8; 3],
    ) {
        let scaled = font.face.as_scaled(font.scale);
        let (glyphs, _) = font.layout(text);
        for (id, pen) in glyphs {
            // Keep the sub-pixel part of the pen position in the glyph's own
            // position and map whole pixels onto the canvas.
            let (glyph_pos, col0, row0) = if rotated {
                let ia = pen.floor();
                (
                    point(pen - ia, 0.0),
                    baseline.floor() as i32,
                    x.floor() as i32 - 1 - ia as i32,
                )
            } else {
                let ox = x + pen as f64;
                let (ix, iy) = (ox.floor(), baseline.floor());
                let pos = point((ox - ix) as f32, (baseline - iy) as f32);
                (pos, ix as i32, iy as i32)
            };
            let glyph = id.with_scale_and_position(font.scale, glyph_pos);
            if let Some(outline) = scaled.outline_glyph(glyph) {
                let b = outline.px_bounds();
                let (bx, by) = (b.min.x as i32, b.min.y as i32);
                outline.draw(|gx, gy, a| {
                    // (u, v): pixel along the text and down from the baseline.
                    let (u, v) = (bx + gx as i32, by + gy as i32);
                    if rotated {
                        self.blend(col0 + v, row0 - u, c, a);
                    } else {
                        self.blend(col0 + u, row0 + v, c, a);
                    }
                });
            }
        }
    }
}

/// Normal-size equivalent of a Unicode superscript character, if it is one.
fn from_superscript(c: char) -> Option<char> {
    match c {
        '\u{207B}' => Some('\u{2212}'),
        '\u{00B9}' => Some('1'),
        '\u{00B2}' => Some('2'),
        '\u{00B3}' => Some('3'),
        '\u{2070}' | '\u{2074}'..='\u{2079}' => char::from_digit(c as u32 - 0x2070, 10),
        _ => None,
    }
}

/// A label split into runs of normal text and of superscripts (converted
/// to normal characters, to be drawn smaller and raised).
pub(crate) fn label_runs(s: &str) -> Vec<(String, bool)> {
    let mut runs: Vec<(String, bool)> = Vec::new();
    for c in s.chars() {
        let (c, sup) = match from_superscript(c) {
            Some(n) => (n, true),
            None => (c, false),
        };
        match runs.last_mut() {
            Some((r, s)) if *s == sup => r.push(c),
            _ => runs.push((c.to_string(), sup)),
        }
    }
    runs
}

/// Tick label text: DejaVu Sans plus a smaller size for exponents, so
/// `10⁻³` is typeset like matplotlib's mathtext `$10^{-3}$` (the font's
/// own superscript glyphs are tiny and sit too low).
pub(crate) struct LabelFont {
    pub(crate) font: Font,
    pub(crate) sup: Font,
}

impl LabelFont {
    pub(crate) fn new(em: f64) -> Result<Self, String> {
        Ok(Self {
            font: Font::new(em)?,
            sup: Font::new(em * 0.7)?,
        })
    }

    pub(crate) fn width(&self, s: &str) -> f64 {
        label_runs(s)
            .iter()
            .map(|(r, sup)| if *sup { &self.sup } else { &self.font }.width(r))
            .sum()
    }

    /// How far superscripts rise above the baseline (baseline to baseline).
    pub(crate) fn raise(&self) -> f64 {
        0.4 * self.font.em
    }

    /// Draw `s` from `(x, baseline)`. With superscripts the baseline is
    /// lowered a little so the whole label stays centred where the caller
    /// centred plain digits.
    pub(crate) fn draw(&self, cv: &mut Canvas, s: &str, x: f64, baseline: f64) {
        let runs = label_runs(s);
        let baseline = if runs.iter().any(|r| r.1) {
            let over = self.raise() + self.sup.cap() - self.font.cap();
            (baseline + over.max(0.0) / 2.0).round()
        } else {
            baseline
        };
        let mut pen = x;
        for (r, sup) in &runs {
            if *sup {
                cv.text(
                    &self.sup,
                    r,
                    pen.round(),
                    (baseline - self.raise()).round(),
                    false,
                );
                pen += self.sup.width(r);
            } else {
                cv.text(&self.font, r, pen.round(), baseline, false);
                pen += self.font.width(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_are_split_into_raised_runs() {
        assert_eq!(
            label_runs("2×10⁻¹²"),
            [
                ("2×10".to_string(), false),
                ("\u{2212}12".to_string(), true)
            ]
        );
        // The embedded font has every glyph the tick labels use.
        use ab_glyph::Font as _;
        let font = Font::new(14.0).unwrap();
        for c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻×−°".chars() {
            assert_ne!(font.face.glyph_id(c).0, 0, "missing glyph {c}");
        }
    }
}
