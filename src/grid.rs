//! The canonical in-memory form of gridded SST that every later stage works on.
//!
//! Whatever the input file looked like (latitudes south-to-north, longitudes 0..360,
//! Kelvin, packed int16, several files), the reader hands over a [`Cube`] with
//! one fixed orientation, so no other module ever has to ask:
//!
//! - latitude runs **north to south** (row 0 is the northernmost row), as in an image,
//!   a GeoTIFF and the ERSST file itself;
//! - longitude is **ascending and starts at the western edge of the data**, normalised to
//!   -180..180 for global grids (regional grids keep one contiguous range);
//! - values are `f32` **degrees Celsius**, `NaN` for land, ice-free fill and anything the
//!   file marked missing;
//! - time is a contiguous run of integer [`Period`]s (months or years) starting at `start`.
//!
//! Values are stored time-major (`[t][lat][lon]`) because every consumer walks time
//! series of a set of cells or whole maps of one step.

use crate::time::{Frequency, Period};

/// Horizontal grid of cell centres in the canonical orientation.
#[derive(Debug, Clone, PartialEq)]
pub struct LatLon {
    /// Latitudes, degrees north, strictly decreasing.
    pub lat: Vec<f64>,
    /// Longitudes, degrees east, strictly increasing.
    pub lon: Vec<f64>,
}

impl LatLon {
    /// Number of latitude rows.
    pub fn nlat(&self) -> usize {
        self.lat.len()
    }

    /// Number of longitude columns.
    pub fn nlon(&self) -> usize {
        self.lon.len()
    }

    /// Number of cells.
    pub fn ncells(&self) -> usize {
        self.lat.len() * self.lon.len()
    }

    /// Area weight of each cell, `cos(latitude)`, row-major like the data.
    pub fn area_weights(&self) -> Vec<f64> {
        let mut w = Vec::with_capacity(self.ncells());
        for &la in &self.lat {
            let c = la.to_radians().cos().max(0.0);
            w.extend(std::iter::repeat_n(c, self.nlon()));
        }
        w
    }

    /// True when both grids have the same cell centres (to 1e-4 degrees).
    pub fn same_as(&self, other: &LatLon) -> bool {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
        };
        close(&self.lat, &other.lat) && close(&self.lon, &other.lon)
    }

    /// Whether the longitudes cover the whole circle (used to decide on -180..180).
    pub fn is_global(&self) -> bool {
        if self.lon.len() < 2 {
            return false;
        }
        let step = (self.lon[self.lon.len() - 1] - self.lon[0]) / (self.lon.len() - 1) as f64;
        (self.lon.len() as f64 * step - 360.0).abs() < step * 0.5
    }
}

/// How far a coordinate may sit from the position a regular axis gives it, as a fraction of
/// the step: 1%. Real products store coordinates as float32, so a 0.8333...-degree axis reads
/// back with steps of 0.8333282 and 0.8333359 (one float32 ulp at 180 degrees is 1.5e-5); a
/// check against a relative 1e-6 of the step refuses every such file. 1% of a cell is far
/// above float32 rounding for any cell wider than 0.003 degrees, and far below anything a
/// reader of a map or a GeoTIFF could see; a Gaussian or stretched grid is off by much more.
pub const REGULAR_RTOL: f64 = 0.01;

/// A coordinate axis that is not evenly spaced (within [`REGULAR_RTOL`] of its step).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Irregular {
    /// Fewer than two coordinates, or non-finite ones, or not strictly monotonic.
    #[error("{axis}: {message}")]
    Degenerate {
        /// `latitude` or `longitude`.
        axis: &'static str,
        /// What is wrong.
        message: String,
    },
    /// One coordinate is off the regular axis.
    #[error("{axis} {value} at index {index} is {offset:.3e} degrees from the regular axis of step {step} (more than {} of a step)", pct(REGULAR_RTOL))]
    Uneven {
        /// `latitude` or `longitude`.
        axis: &'static str,
        /// The index of the worst coordinate.
        index: usize,
        /// Its value.
        value: f64,
        /// Its distance from the regular position.
        offset: f64,
        /// The step of the fitted regular axis.
        step: f64,
    },
}

fn pct(f: f64) -> String {
    format!("{}%", f * 100.0)
}

/// A regular axis fitted to coordinates: `first + i * step` is coordinate `i`'s position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegularAxis {
    /// Position of coordinate 0.
    pub first: f64,
    /// Signed step.
    pub step: f64,
}

/// Fits a regular axis to strictly monotonic coordinates `c` and checks that every one lies
/// within [`REGULAR_RTOL`] of a step from its position.
///
/// The step and the first position are a least-squares fit (float32 rounding averages out
/// rather than the end points deciding), then snapped to round values when those fit as well:
/// a step whose inverse is a multiple of 0.001 (1/1.2 = 0.8333..., 0.25, 2) and a first cell
/// edge on a multiple of half a step (0 or -180 rather than -1.5e-5). So a float32 grid is
/// georeferenced as the grid its producer meant.
pub fn regular_axis(axis: &'static str, c: &[f64]) -> Result<RegularAxis, Irregular> {
    let degenerate = |message: String| Irregular::Degenerate { axis, message };
    if c.len() < 2 {
        return Err(degenerate(format!(
            "need at least 2 coordinates to define a step, got {}",
            c.len()
        )));
    }
    if let Some(v) = c.iter().find(|v| !v.is_finite()) {
        return Err(degenerate(format!("non-finite coordinate {v}")));
    }
    let up = c.windows(2).all(|w| w[1] > w[0]);
    if !up && !c.windows(2).all(|w| w[1] < w[0]) {
        return Err(degenerate("coordinates are not strictly monotonic".into()));
    }
    // Least squares of c[i] = a + b i.
    let n = c.len() as f64;
    let mean_i = (n - 1.0) / 2.0;
    let mean_c = c.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &v) in c.iter().enumerate() {
        let di = i as f64 - mean_i;
        sxy += di * (v - mean_c);
        sxx += di * di;
    }
    let step = sxy / sxx;
    let fitted = RegularAxis {
        first: mean_c - step * mean_i,
        step,
    };
    let snapped = snap(fitted);
    let worst = |a: RegularAxis| {
        c.iter()
            .enumerate()
            .map(|(i, &v)| (i, (v - (a.first + a.step * i as f64)).abs()))
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .expect("at least two coordinates")
    };
    let tol = REGULAR_RTOL * step.abs();
    let (index, offset) = worst(fitted);
    if offset <= tol {
        // The round values only where they fit about as well as the fit itself, or within
        // the float32 resolution of the coordinates (a fit through a few float32 values
        // absorbs their rounding): a long axis whose true step is not round must not drift
        // by the rounding.
        let rounded = worst(snapped).1;
        let largest = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let f32_ulp = largest * f64::from(f32::EPSILON);
        return Ok(if rounded <= 2.0 * offset + f32_ulp + 1e-9 * step.abs() {
            snapped
        } else {
            fitted
        });
    }
    Err(Irregular::Uneven {
        axis,
        index,
        value: c[index],
        offset,
        step,
    })
}

/// `a` with its step and first cell edge rounded to the values a producer would have meant
/// (see [`regular_axis`]), where they are within a float32 rounding of it.
fn snap(a: RegularAxis) -> RegularAxis {
    let inv = 1.0 / a.step.abs();
    let inv_round = (inv * 1000.0).round() / 1000.0;
    let step = if inv_round > 0.0 && (inv - inv_round).abs() <= 1e-5 * inv {
        (1.0 / inv_round).copysign(a.step)
    } else {
        a.step
    };
    let half = step.abs() / 2.0;
    let edge = a.first - step / 2.0;
    let edge_round = (edge / half).round() * half;
    let edge = if (edge - edge_round).abs() <= 1e-3 * half {
        edge_round
    } else {
        edge
    };
    RegularAxis {
        first: edge + step / 2.0,
        step,
    }
}

impl LatLon {
    /// The regular axes of this grid, `(latitude, longitude)`, or why it has none.
    pub fn regular(&self) -> Result<(RegularAxis, RegularAxis), Irregular> {
        Ok((
            regular_axis("latitude", &self.lat)?,
            regular_axis("longitude", &self.lon)?,
        ))
    }
}

/// A contiguous time series of SST maps in the canonical orientation.
#[derive(Debug, Clone)]
pub struct Cube {
    /// Horizontal grid.
    pub grid: LatLon,
    /// Monthly or annual steps.
    pub freq: Frequency,
    /// Period of the first step; step `t` is `start + t`.
    pub start: Period,
    /// `[t][lat][lon]`, degrees Celsius, NaN = missing.
    pub values: Vec<f32>,
    /// Name of the variable read.
    pub variable: String,
}

impl Cube {
    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.values
            .len()
            .checked_div(self.grid.ncells())
            .unwrap_or(0)
    }

    /// True when the cube holds no time step.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map of step `t`.
    pub fn step(&self, t: usize) -> &[f32] {
        let n = self.grid.ncells();
        &self.values[t * n..(t + 1) * n]
    }

    /// Period of step `t`.
    pub fn period(&self, t: usize) -> Period {
        Period(self.start.0 + t as i64)
    }

    /// Period just after the last step.
    pub fn end(&self) -> Period {
        Period(self.start.0 + self.len() as i64)
    }

    /// Index of `p` in this cube, if present.
    pub fn index_of(&self, p: Period) -> Option<usize> {
        let i = p.0 - self.start.0;
        (0..self.len() as i64).contains(&i).then_some(i as usize)
    }

    /// The first `steps` steps of the given cells, `[t][cell]` in the order of `cells`: a
    /// region's (or the ocean's) training series.
    pub fn series(&self, steps: usize, cells: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(steps * cells.len());
        for t in 0..steps {
            let map = self.step(t);
            out.extend(cells.iter().map(|&k| map[k]));
        }
        out
    }

    /// The steps from `p` on: all of them when `p` is not after the start; none, starting at
    /// `p`, when it is at or after the end.
    pub fn since(&self, p: Period) -> Cube {
        let n = self.grid.ncells();
        let skip = (p.0 - self.start.0).clamp(0, self.len() as i64) as usize;
        Cube {
            grid: self.grid.clone(),
            freq: self.freq,
            start: p.max(self.start),
            values: self.values[skip * n..].to_vec(),
            variable: self.variable.clone(),
        }
    }

    /// Annual means of the complete calendar years of a monthly cube.
    ///
    /// A cell's annual mean is defined only when all twelve months are valid: a year with a
    /// missing month is NaN for that cell rather than a biased mean. Partial years at either
    /// end of the record are dropped, never padded (the original project's annual mean
    /// inserted a spurious 0 and dropped the last complete year; this one does neither).
    pub fn annual_means(&self) -> Cube {
        assert_eq!(
            self.freq,
            Frequency::Monthly,
            "annual means need monthly input"
        );
        let n = self.grid.ncells();
        let first_year = (self.start.0 + 11).div_euclid(12); // first year starting in range
        let last_year = self.end().0.div_euclid(12) - 1; // last year whose December is in range
        let mut values = Vec::new();
        for year in first_year..=last_year {
            let t0 = self
                .index_of(Period::month(year, 1))
                .expect("year in range");
            for c in 0..n {
                let mut sum = 0.0f64;
                let mut ok = true;
                for m in 0..12 {
                    let v = self.values[(t0 + m) * n + c];
                    if v.is_nan() {
                        ok = false;
                        break;
                    }
                    sum += v as f64;
                }
                values.push(if ok { (sum / 12.0) as f32 } else { f32::NAN });
            }
        }
        Cube {
            grid: self.grid.clone(),
            freq: Frequency::Annual,
            start: Period(first_year),
            values,
            variable: self.variable.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small monthly cube: `nlat` x `nlon` 10-degree cells, values from `f(t, cell)`.
    pub(crate) fn cube(
        nlat: usize,
        nlon: usize,
        start: Period,
        nt: usize,
        f: impl Fn(usize, usize) -> f32,
    ) -> Cube {
        let lat = (0..nlat).map(|i| 40.0 - 10.0 * i as f64).collect();
        let lon = (0..nlon).map(|j| -175.0 + 10.0 * j as f64).collect();
        let grid = LatLon { lat, lon };
        let n = grid.ncells();
        let values = (0..nt)
            .flat_map(|t| (0..n).map(move |c| (t, c)))
            .map(|(t, c)| f(t, c))
            .collect();
        Cube {
            grid,
            freq: Frequency::Monthly,
            start,
            values,
            variable: "sst".into(),
        }
    }

    #[test]
    fn since_drops_the_earlier_steps() {
        let c = cube(1, 2, Period::month(2010, 1), 24, |t, cell| {
            (t * 10 + cell) as f32
        });
        let s = c.since(Period::month(2011, 1));
        assert_eq!((s.start, s.len()), (Period::month(2011, 1), 12));
        assert_eq!(s.step(0), &[120.0, 121.0]);
        assert_eq!(c.since(Period::month(2000, 1)).values, c.values);
        let none = c.since(Period::month(2030, 1));
        assert!(none.is_empty() && none.start == Period::month(2030, 1));
    }

    #[test]
    fn series_gathers_cells_in_the_given_order() {
        let c = cube(1, 3, Period::month(2010, 1), 4, |t, cell| {
            (t * 10 + cell) as f32
        });
        assert_eq!(c.series(2, &[2, 0]), vec![2.0, 0.0, 12.0, 10.0]);
        assert!(c.series(0, &[1]).is_empty());
    }

    #[test]
    fn annual_means_use_complete_years_only() {
        // Starts in March 2010, ends after February 2013: complete years 2011 and 2012.
        let c = cube(1, 2, Period::month(2010, 3), 36, |t, cell| {
            if cell == 1 && t == 20 {
                f32::NAN
            } else {
                t as f32
            }
        });
        let a = c.annual_means();
        assert_eq!(a.start, Period(2011));
        assert_eq!(a.len(), 2);
        // 2011-01 is t = 10: mean of 10..=21 = 15.5.
        assert_eq!(a.step(0)[0], 15.5);
        // t = 20 (2011-11) is missing in cell 1: that year-cell is NaN, not a biased mean.
        assert!(a.step(0)[1].is_nan());
        assert_eq!(a.step(1)[1], 27.5);
    }

    #[test]
    fn area_weights_follow_cos_lat() {
        let g = LatLon {
            lat: vec![60.0, 0.0],
            lon: vec![0.0, 1.0],
        };
        let w = g.area_weights();
        assert!((w[0] - 0.5).abs() < 1e-12 && (w[3] - 1.0).abs() < 1e-12);
    }

    /// Float32 coordinates of a 0.8333...-degree axis (steps 0.8333282 and 0.8333359) are
    /// regular, and georeferenced as the axis meant: step 1/1.2, edges on whole degrees.
    #[test]
    fn float32_axes_are_regular_and_snapped() {
        let lon: Vec<f64> = (0..432)
            .map(|j| ((j as f64 + 0.5) / 1.2 - 180.0) as f32 as f64)
            .collect();
        let steps: Vec<f64> = lon.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.iter().any(|&d| d != steps[0]), "float32 steps vary");
        let a = regular_axis("longitude", &lon).unwrap();
        assert_eq!(a.step, 1.0 / 1.2);
        assert_eq!(a.first - a.step / 2.0, -180.0);
        // A latitude band stored north to south.
        let lat: Vec<f64> = (0..24)
            .map(|i| (10.0 - (i as f64 + 0.5) / 1.2) as f32 as f64)
            .collect();
        let a = regular_axis("latitude", &lat).unwrap();
        assert_eq!((a.step, a.first + 0.5 / 1.2), (-1.0 / 1.2, 10.0));
        // Exact axes keep their values (ERSST).
        let a = regular_axis(
            "latitude",
            &(0..89).map(|i| 88.0 - 2.0 * i as f64).collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!((a.first, a.step), (88.0, -2.0));
        // A short float32 axis (a least-squares line through 5 values absorbs their rounding).
        let short: Vec<f64> = (0..5)
            .map(|i| (5.0 - (i as f64 + 0.5) / 1.2) as f32 as f64)
            .collect();
        let a = regular_axis("latitude", &short).unwrap();
        assert_eq!((a.step, a.first + 0.5 / 1.2), (-1.0 / 1.2, 5.0));
        // A step that is not round stays as fitted.
        let odd: Vec<f64> = (0..50).map(|i| 3.0 + 0.7123 * i as f64).collect();
        let a = regular_axis("longitude", &odd).unwrap();
        assert!((a.step - 0.7123).abs() < 1e-12 && (a.first - 3.0).abs() < 1e-9);
    }

    #[test]
    fn uneven_axes_are_refused_naming_the_axis_and_index() {
        // Gaussian-like latitudes: spacing grows by 5% per row.
        let mut lat = vec![0.0];
        for i in 0..20 {
            lat.push(lat[i] - 1.0 * 1.05f64.powi(i as i32));
        }
        let e = regular_axis("latitude", &lat).unwrap_err();
        assert!(
            matches!(
                e,
                Irregular::Uneven {
                    axis: "latitude",
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("latitude") && e.to_string().contains("1%"),
            "{e}"
        );
        // One coordinate 2% of a step off.
        let mut lon: Vec<f64> = (0..10).map(|j| j as f64).collect();
        lon[4] += 0.02;
        match regular_axis("longitude", &lon).unwrap_err() {
            Irregular::Uneven { index, .. } => assert_eq!(index, 4),
            e => panic!("{e}"),
        }
        lon[4] = 4.005; // half a percent: float noise of a kind, accepted
        regular_axis("longitude", &lon).unwrap();
        for bad in [vec![1.0], vec![0.0, f64::NAN], vec![0.0, 2.0, 1.0]] {
            assert!(matches!(
                regular_axis("longitude", &bad),
                Err(Irregular::Degenerate { .. })
            ));
        }
    }

    #[test]
    fn global_detection() {
        let g = LatLon {
            lat: vec![0.0],
            lon: (0..180).map(|j| -180.0 + 2.0 * j as f64).collect(),
        };
        assert!(g.is_global());
        let r = LatLon {
            lat: vec![0.0],
            lon: (0..20).map(|j| 2.0 * j as f64).collect(),
        };
        assert!(!r.is_global());
    }
}
