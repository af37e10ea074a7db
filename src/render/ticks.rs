//! Where ticks go and what they say: matplotlib-like numeric ticks ([`linear_ticks`]), log
//! ticks with superscript labels ([`log_ticks`]), round-degree map ticks ([`degree_ticks`])
//! with `60°S` / `120°W` labels, number formatting ([`fmt_num`]), and the "nice" steps
//! behind them and behind the maps' contour levels ([`nice_ticks`], [`contour_levels`]:
//! a port of the core of matplotlib's `MaxNLocator`, applied as `plt.contour(z, n)` does).
//!
//! Why separate from drawing ([`super::axes`]): the choice of ticks is pure arithmetic on the
//! axis range and is tested on its own; the figures call these to get values and labels and
//! then place them in pixels.

/// A tick: data value, label (empty = none) and whether it is major
/// (longer tick mark, grid line).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    pub(crate) v: f64,
    pub(crate) label: String,
    pub(crate) major: bool,
}

/// Ticks of a log axis spanning decades `lo..=hi` with room for about
/// `max_labels` labels.
pub(crate) fn log_ticks(lo: i32, hi: i32, max_labels: usize) -> Vec<Tick> {
    let decades = (hi - lo).max(1) as usize;
    let max_labels = max_labels.max(2);
    let label_minor = decades <= 2 && (decades + 1) + 2 * decades <= max_labels;
    let stride = (decades + 1).div_ceil(max_labels).max(1) as i32;
    let mut ticks = Vec::new();
    for e in lo..=hi {
        let base = 10f64.powi(e);
        ticks.push(Tick {
            v: base,
            label: if e.rem_euclid(stride) == 0 {
                log_label(1, e)
            } else {
                String::new()
            },
            major: true,
        });
        if e == hi {
            break;
        }
        for m in 2..=9u32 {
            let labelled = label_minor && (m == 2 || m == 5);
            ticks.push(Tick {
                v: m as f64 * base,
                label: if labelled {
                    log_label(m, e)
                } else {
                    String::new()
                },
                major: false,
            });
        }
    }
    ticks
}

/// Automatic numeric ticks inside `[lo, hi]` with at most `nbins` intervals.
pub(crate) fn linear_ticks(lo: f64, hi: f64, nbins: usize) -> Vec<Tick> {
    let step = nice_step(lo, hi, nbins);
    let tol = (hi - lo) * 1e-9;
    nice_ticks(lo, hi, nbins)
        .into_iter()
        .filter(|&v| v >= lo - tol && v <= hi + tol)
        .map(|v| Tick {
            v,
            label: fmt_num(v, step),
            major: true,
        })
        .collect()
}

pub(crate) fn lon_label(v: f64, step: f64) -> String {
    let v = if (-180.0..=180.0).contains(&v) {
        v
    } else {
        let w = (v + 180.0).rem_euclid(360.0) - 180.0;
        if w == -180.0 {
            180.0
        } else {
            w
        }
    };
    if v.abs() < 1e-9 {
        return "0°".to_string();
    }
    let hemi = if v < 0.0 { "W" } else { "E" };
    format!("{}°{}", fmt_num(v.abs(), step), hemi)
}

pub(crate) fn lat_label(v: f64, step: f64) -> String {
    if v.abs() < 1e-9 {
        return "0°".to_string();
    }
    let hemi = if v < 0.0 { "S" } else { "N" };
    format!("{}°{}", fmt_num(v.abs(), step), hemi)
}

/// Round-degree ticks within `[lo, hi]`, at most `max_ticks`, labelled by `label`
/// ([`lon_label`] or [`lat_label`]) with the decimals their step needs.
pub(crate) fn degree_ticks(
    lo: f64,
    hi: f64,
    max_ticks: usize,
    label: fn(f64, f64) -> String,
) -> Vec<Tick> {
    const STEPS: [f64; 17] = [
        0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 180.0,
        360.0,
    ];
    let eps = (hi - lo) * 1e-9;
    let ticks_for = |step: f64| {
        let first = ((lo - eps) / step).ceil() as i64;
        let last = ((hi + eps) / step).floor() as i64;
        first..=last
    };
    let step = STEPS
        .into_iter()
        .find(|&s| ticks_for(s).count() <= max_ticks)
        .unwrap_or(360.0);
    ticks_for(step)
        .map(|k| {
            let v = k as f64 * step;
            Tick {
                v,
                label: label(v, step),
                major: true,
            }
        })
        .collect()
}

/// Format `v` with as many decimals as `step` needs, with a Unicode minus
/// like matplotlib.
pub(crate) fn fmt_num(v: f64, step: f64) -> String {
    let decimals = (0..=6)
        .find(|&d| {
            let s = step * 10f64.powi(d);
            (s - s.round()).abs() < 1e-6 * s.max(1.0)
        })
        .unwrap_or(6) as usize;
    let s = format!("{:.*}", decimals, v);
    let is_zero = s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.');
    if is_zero {
        format!("{:.*}", decimals, 0.0)
    } else {
        s.replace('-', "\u{2212}")
    }
}

/// `-3` -> `⁻³`.
fn superscript(e: i32) -> String {
    e.to_string()
        .chars()
        .map(|c| match c {
            '-' => '\u{207B}',
            '1' => '\u{00B9}',
            '2' => '\u{00B2}',
            '3' => '\u{00B3}',
            d => char::from_u32(0x2070 + d.to_digit(10).unwrap_or(0)).unwrap_or(d),
        })
        .collect()
}

/// Label of `m * 10^e` on a log axis: `10⁻³` or `2×10⁻³`.
fn log_label(m: u32, e: i32) -> String {
    if m == 1 {
        format!("10{}", superscript(e))
    } else {
        format!("{m}\u{00D7}10{}", superscript(e))
    }
}

/// "Nice" tick values covering `[lo, hi]` with at most `nbins` intervals,
/// like matplotlib's `MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10])`.
///
/// The returned ticks are multiples of the chosen step and may extend up to
/// one step beyond the range; callers filter to what they need.
pub(crate) fn nice_ticks(lo: f64, hi: f64, nbins: usize) -> Vec<f64> {
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
pub(crate) fn nice_step(lo: f64, hi: f64, nbins: usize) -> f64 {
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
pub(crate) fn contour_levels(zmin: f64, zmax: f64, n: usize) -> Vec<f64> {
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

    #[test]
    fn map_labels() {
        assert_eq!(lon_label(-180.0, 60.0), "180°W");
        assert_eq!(lon_label(180.0, 60.0), "180°E");
        assert_eq!(lon_label(0.0, 60.0), "0°");
        assert_eq!(lon_label(300.0, 60.0), "60°W");
        assert_eq!(lat_label(-60.0, 30.0), "60°S");
        assert_eq!(lat_label(2.5, 2.5), "2.5°N");
        assert_eq!(fmt_num(-5.0, 5.0), "\u{2212}5");
        assert_eq!(fmt_num(-0.0000001, 0.5), "0.0");
        let t = degree_ticks(-180.0, 180.0, 7, lon_label);
        let labels: Vec<&str> = t.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["180°W", "120°W", "60°W", "0°", "60°E", "120°E", "180°E"]
        );
    }

    #[test]
    fn log_ticks_label_decades_and_sometimes_minors() {
        // One decade: the 2 and 5 minors are labelled too.
        let one: Vec<String> = log_ticks(-1, 0, 9)
            .into_iter()
            .filter(|t| !t.label.is_empty())
            .map(|t| t.label)
            .collect();
        assert_eq!(one, ["10⁻¹", "2×10⁻¹", "5×10⁻¹", "10⁰"]);
        // Many decades, little room: every other decade labelled.
        let many = log_ticks(-8, 0, 5);
        let n = many.iter().filter(|t| !t.label.is_empty()).count();
        assert_eq!(n, 5);
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
