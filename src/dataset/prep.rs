//! The grid-wide facts every region's fit shares, all taken from the training period only:
//! how many steps lie before the forecast start ([`training_steps`]), which cells have a
//! complete record over them ([`ocean_mask`]), and the global-mean trend the models'
//! climatology may follow ([`global_trend`]).
//!
//! They are computed once per run, before the regions are built, from steps strictly before
//! the origin: the ocean mask, and therefore the regions, cannot depend on a value from the
//! forecast period (the leakage test poisons those values and checks nothing moves).

use crate::error_class::ErrorClass;
use crate::grid::Cube;
use crate::time::Period;

use super::{trend_slope, Normaliser};

/// Why the input cannot hold a forecast from the requested start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatasetError {
    /// The data start at or after the origin.
    #[error("the input starts at {data_start}, so there is no training data before the forecast start {origin}")]
    NoTrainingData {
        /// First period of the input.
        data_start: String,
        /// Forecast origin.
        origin: String,
    },
    /// The data end before the month before the origin.
    #[error("the input ends at {data_end}; a forecast from {origin} needs data up to the step just before it")]
    DataEndsEarly {
        /// Last period of the input.
        data_end: String,
        /// Forecast origin.
        origin: String,
    },
}

impl DatasetError {
    /// Always a property of the input data.
    pub fn class(&self) -> ErrorClass {
        ErrorClass::Data
    }
}

/// Number of training steps (those before `origin`), checking the data reach the origin.
pub fn training_steps(cube: &Cube, origin: Period) -> Result<usize, DatasetError> {
    let label = |p: Period| p.label(cube.freq);
    if cube.start >= origin {
        return Err(DatasetError::NoTrainingData {
            data_start: label(cube.start),
            origin: label(origin),
        });
    }
    if cube.end() < origin {
        return Err(DatasetError::DataEndsEarly {
            data_end: label(Period(cube.end().0 - 1)),
            origin: label(origin),
        });
    }
    Ok((origin.0 - cube.start.0) as usize)
}

/// Cells with a valid value at every one of the first `steps` steps.
pub fn ocean_mask(cube: &Cube, steps: usize) -> Vec<bool> {
    let n = cube.grid.ncells();
    let mut mask = vec![true; n];
    for t in 0..steps {
        for (m, v) in mask.iter_mut().zip(cube.step(t)) {
            *m &= v.is_finite();
        }
    }
    mask
}

/// The trend of the ocean over the first `steps` steps, in degrees per step: the slope
/// ([`trend_slope`]) of the area-weighted (cos latitude) mean anomaly of the cells valid at
/// every one of those steps, each cell's anomaly taken about its own seasonal mean.
/// Computed from the whole grid, not per region, so every region (and every Slurm shard)
/// uses the same number; it reads nothing from `steps` on.
pub fn global_trend(cube: &Cube, steps: usize) -> f64 {
    let mask = ocean_mask(cube, steps);
    let weights = cube.grid.area_weights();
    let cells: Vec<usize> = (0..mask.len()).filter(|&k| mask[k]).collect();
    let total: f64 = cells.iter().map(|&k| weights[k]).sum();
    if cells.is_empty() || total <= 0.0 {
        return 0.0;
    }
    let raw = cube.series(steps, &cells);
    let norm = Normaliser::fit(&raw, cells.len(), cube.start, cube.freq);
    let mean: Vec<f64> = (0..steps)
        .map(|t| {
            let p = Period(cube.start.0 + t as i64);
            let row = &raw[t * cells.len()..(t + 1) * cells.len()];
            let s: f64 = row
                .iter()
                .zip(&cells)
                .enumerate()
                .map(|(c, (&v, &k))| weights[k] * (v - norm.climatology(p, c)) as f64)
                .sum();
            s / total
        })
        .collect();
    trend_slope(&mean, cube.start, cube.freq)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::grid::tests::cube;

    /// 4 x 4 cells, 2015-01 .. 2018-12, seasonal cycle + trend; cell 5 is land (also the
    /// fixture of the fitting stage's tests).
    pub(crate) fn data() -> Cube {
        cube(4, 4, Period::month(2015, 1), 48, |t, c| {
            if c == 5 {
                f32::NAN
            } else {
                15.0 + 5.0 * ((t % 12) as f32 * 0.52).sin() + 0.01 * t as f32 + 0.3 * c as f32
            }
        })
    }

    /// The global trend is the slope of the area-weighted mean anomaly: 0.01 per month in
    /// the test data (every ocean cell warms alike), land and the future left out.
    #[test]
    fn global_trend_is_the_ocean_mean_slope() {
        let c = data();
        let steps = training_steps(&c, Period::month(2018, 1)).unwrap();
        assert!((global_trend(&c, steps) - 0.01).abs() < 1e-5);
        // Cells warming at different rates: the slope is their area-weighted mean. Rows 0
        // and 1 (the first eight cells) warm by 0.02, rows 2 and 3 by 0.
        let mixed = cube(4, 4, Period::month(2015, 1), 48, |t, k| {
            let rate = if k < 8 { 0.02 } else { 0.0 };
            10.0 + ((t % 12) as f32) + rate * t as f32
        });
        let w = mixed.grid.area_weights();
        let expect = 0.02 * w[..8].iter().sum::<f64>() / w.iter().sum::<f64>();
        assert!((global_trend(&mixed, 36) - expect).abs() < 1e-5);
    }

    #[test]
    fn origin_outside_data_is_refused() {
        let c = data();
        assert!(matches!(
            training_steps(&c, Period::month(2015, 1)),
            Err(DatasetError::NoTrainingData { .. })
        ));
        assert!(matches!(
            training_steps(&c, Period::month(2020, 1)),
            Err(DatasetError::DataEndsEarly { .. })
        ));
        // The data end in December 2018: a 2019 forecast is allowed (nothing to verify).
        assert_eq!(training_steps(&c, Period::month(2019, 1)).unwrap(), 48);
    }

    #[test]
    fn ocean_mask_drops_land_and_cells_with_a_gap() {
        let mut c = data();
        c.values[3 * 16 + 2] = f32::NAN; // cell 2 missing at step 3
        let mask = ocean_mask(&c, 12);
        assert!(!mask[5] && !mask[2]);
        assert_eq!(mask.iter().filter(|&&m| m).count(), 14);
        // A gap after the training steps does not count.
        assert!(ocean_mask(&c, 3)[2]);
    }
}
