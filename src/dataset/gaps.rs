//! Missing months inside an ocean cell's training record: interpolate short gaps, mask long ones.
//!
//! Real archives have holes in otherwise good ocean cells: a month with no observation in a
//! sparse reconstruction, a value the reader masked as physically implausible (see
//! [`crate::io::netcdf::PLAUSIBLE_SST`]), a sea-ice edge that comes and goes. The models need a
//! complete series per channel, and [`super::prep::ocean_mask`] keeps only cells that are
//! finite at every training step, so without this step a single missing month would silently
//! drop a cell from the forecast. The rule sstcast applies, before the mask is computed:
//!
//! - a run of at most [`MAX_GAP`] (2) consecutive missing months **between two valid months**
//!   is filled by linear interpolation between those two months: a short hole in a smooth
//!   seasonal signal is well approximated that way, and the filled values carry no
//!   information beyond the neighbours;
//! - a longer run, or a run touching either end of the training period (nothing to
//!   interpolate towards; extrapolating the last month before the forecast start would invent
//!   the very input the model decodes from), leaves the cell with a gap, so the ocean mask drops
//!   the cell: it gets no forecast (fill in the outputs) rather than a made-up history;
//! - cells with no valid month at all are land and are left alone.
//!
//! Only the **training period** (the months before the forecast origin) is read or changed:
//! values at and after the origin are observations used for verification and must stay as
//! observed, and no value from after the origin may influence the training series. The counts
//! (values filled, cells filled, cells masked) are logged so a cron log shows how much of the
//! record was repaired.

use crate::grid::Cube;
use crate::time::{Frequency, Period};

/// Longest run of missing months that is interpolated.
pub const MAX_GAP: usize = 2;

/// What [`fill_short_gaps`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GapReport {
    /// Training steps examined (those before the origin).
    pub steps: usize,
    /// Missing values filled by interpolation.
    pub values_filled: usize,
    /// Cells that had at least one value filled (and no longer gap).
    pub cells_filled: usize,
    /// Cells with some valid months but a gap that was not filled (masked from the forecast).
    pub cells_masked: usize,
}

/// Fills short interior gaps of every cell over the steps of `cube` before `origin`, in
/// place, and logs the counts. `cube` must be monthly (gaps are counted in months).
pub fn fill_short_gaps(cube: &mut Cube, origin: Period) -> GapReport {
    assert_eq!(cube.freq, Frequency::Monthly, "gap filling works on months");
    let steps = (origin.0 - cube.start.0).clamp(0, cube.len() as i64) as usize;
    let n = cube.grid.ncells();
    let mut report = GapReport {
        steps,
        ..GapReport::default()
    };
    let mut series = vec![0.0f32; steps];
    for cell in 0..n {
        for (t, v) in series.iter_mut().enumerate() {
            *v = cube.values[t * n + cell];
        }
        let (filled, complete) = fill_series(&mut series);
        if filled > 0 {
            for (t, &v) in series.iter().enumerate() {
                cube.values[t * n + cell] = v;
            }
            report.values_filled += filled;
        }
        match complete {
            Some(true) if filled > 0 => report.cells_filled += 1,
            Some(false) => report.cells_masked += 1,
            _ => {}
        }
    }
    if report.values_filled > 0 || report.cells_masked > 0 {
        tracing::warn!(
            "training data ({} months before {}): interpolated {} missing value(s) in {} cell(s) (gaps of at most {} months); masked {} ocean cell(s) with longer gaps or gaps at either end of the period (no forecast there)",
            steps,
            origin.label(Frequency::Monthly),
            report.values_filled,
            report.cells_filled,
            MAX_GAP,
            report.cells_masked
        );
    }
    report
}

/// Fills runs of at most [`MAX_GAP`] NaNs between two finite values. Returns the number of
/// values filled and whether the series is now complete (`None`: no valid value at all).
fn fill_series(s: &mut [f32]) -> (usize, Option<bool>) {
    if !s.iter().any(|v| v.is_finite()) {
        return (0, None);
    }
    let mut filled = 0;
    let mut complete = true;
    let mut t = 0;
    while t < s.len() {
        if s[t].is_finite() {
            t += 1;
            continue;
        }
        let start = t;
        while t < s.len() && !s[t].is_finite() {
            t += 1;
        }
        let len = t - start;
        if start == 0 || t == s.len() || len > MAX_GAP {
            complete = false;
            continue;
        }
        let (a, b) = (s[start - 1], s[t]);
        for k in 0..len {
            let w = (k + 1) as f32 / (len + 1) as f32;
            s[start + k] = a + (b - a) * w;
        }
        filled += len;
    }
    (filled, Some(complete))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::prep::ocean_mask;
    use crate::grid::tests::cube;

    #[test]
    fn series_rules() {
        let nan = f32::NAN;
        let mut s = [1.0, nan, 3.0, nan, nan, 6.0];
        assert_eq!(fill_series(&mut s), (3, Some(true)));
        assert_eq!(s, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut s = [1.0, nan, nan, nan, 5.0];
        assert_eq!(fill_series(&mut s), (0, Some(false)));
        assert!(s[1].is_nan() && s[3].is_nan());
        let mut s = [nan, 2.0, 3.0];
        assert_eq!(fill_series(&mut s), (0, Some(false)));
        let mut s = [1.0, 2.0, nan];
        assert_eq!(fill_series(&mut s), (0, Some(false)));
        let mut s = [nan, nan];
        assert_eq!(fill_series(&mut s), (0, None));
        let mut s = [1.0, 2.0];
        assert_eq!(fill_series(&mut s), (0, Some(true)));
    }

    #[test]
    fn fills_training_period_only_and_the_mask_follows() {
        // 1 x 4 cells, 2015-01..2016-12; origin 2016-07.
        // cell 0: complete; cell 1: 2-month gap (filled); cell 2: 3-month gap (masked);
        // cell 3: land. Every cell has a gap after the origin, which must stay.
        let origin = Period::month(2016, 7);
        let mut c = cube(1, 4, Period::month(2015, 1), 24, |t, cell| {
            match (t, cell) {
                (_, 3) => f32::NAN,
                (20, _) => f32::NAN,
                (5 | 6, 1) => f32::NAN,
                (8..=10, 2) => f32::NAN,
                _ => 10.0 + t as f32,
            }
        });
        let r = fill_short_gaps(&mut c, origin);
        assert_eq!(
            r,
            GapReport {
                steps: 18,
                values_filled: 2,
                cells_filled: 1,
                cells_masked: 1
            }
        );
        assert_eq!((c.step(5)[1], c.step(6)[1]), (15.0, 16.0));
        assert!(c.step(9)[2].is_nan());
        assert!(
            c.step(20).iter().all(|v| v.is_nan()),
            "after origin: untouched"
        );
        assert_eq!(ocean_mask(&c, r.steps), vec![true, true, false, false]);
    }

    #[test]
    fn origin_outside_the_data_changes_nothing() {
        let mut c = cube(1, 2, Period::month(2015, 1), 12, |t, _| {
            if t == 3 {
                f32::NAN
            } else {
                1.0
            }
        });
        let before = c.values.clone();
        let r = fill_short_gaps(&mut c, Period::month(2014, 1));
        assert_eq!(r.steps, 0);
        assert_eq!(c.values.len(), before.len());
        assert!(c.values[6].is_nan());
    }
}
