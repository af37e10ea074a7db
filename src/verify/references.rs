//! The reference forecasts every SST forecast must beat, fitted once on the training steps
//! `[0, steps)` of a cube and issued from any later start.
//!
//! A forecast made at step index `start` (its first target is step `start`) uses the anomaly
//! of step `start - 1` against the training climatology and nothing later:
//!
//! - **climatology**: each cell's mean for the target calendar month over the training steps;
//! - **persistence**: the last anomaly added to the climatology of the target month, and plain
//!   last-value persistence as a second column;
//! - **damped persistence**: per cell and lead L, the last anomaly times the regression
//!   coefficient (through the origin) of anomaly(t+L) on anomaly(t) over the training pairs,
//!   clipped to 0..1, added to the climatology;
//! - **seasonal damped persistence**: the same, with coefficients fitted per calendar month
//!   of the last step: only training pairs whose t is in the calendar month before the start
//!   (December anomalies for a January start); the persistence of SST anomalies depends on
//!   the season (spring barrier, deep winter mixed layers). With annual steps it is damped
//!   persistence;
//! - **LIM**: a linear inverse model on the leading EOFs of the training anomalies
//!   ([`super::lim`]); cells outside its domain (not valid at every training step) get the
//!   damped-persistence forecast.

use super::lim::Lim;
use super::Method;
use crate::dataset::Normaliser;
use crate::grid::Cube;
use crate::time::{Frequency, Period};

/// The reference forecasts, fitted on the training steps of a cube.
#[derive(Debug, Clone)]
pub struct References {
    clim: Normaliser,
    freq: Frequency,
    /// First training period.
    first: Period,
    /// Training steps; forecasts start at `steps` or later.
    steps: usize,
    horizon: usize,
    /// Last training step's period and values.
    last_period: Period,
    last: Vec<f32>,
    /// `[lead][cell]` damped-persistence coefficients.
    damping: Vec<f32>,
    /// `[slot][lead][cell]` seasonal coefficients; the slot is the calendar month (0..12) of
    /// the step before the start (one slot for annual steps).
    seasonal: Vec<f32>,
    lim: Option<Lim>,
    ncells: usize,
}

impl References {
    /// Fits every reference on the first `steps` steps of `cube`, for leads `1..=horizon`.
    pub fn fit(cube: &Cube, steps: usize, horizon: usize) -> Self {
        let n = cube.grid.ncells();
        let mut train = Vec::with_capacity(steps * n);
        for t in 0..steps {
            train.extend_from_slice(cube.step(t));
        }
        let clim = Normaliser::fit(&train, n, cube.start, cube.freq);
        // Anomalies of the training steps.
        let anom: Vec<f32> = train
            .iter()
            .enumerate()
            .map(|(k, &v)| v - clim.climatology(cube.period(k / n), k % n))
            .collect();
        let damping = crate::dataset::damping(&anom, n, horizon);
        // One slot for annual steps: the same coefficients as `damping`.
        let seasonal =
            crate::dataset::seasonal_damping(&anom, n, cube.start, cube.freq, horizon, 0.0);
        let lim = Lim::fit(
            &train,
            n,
            cube.start,
            cube.freq,
            &cube.grid.area_weights(),
            horizon,
        );
        Self {
            clim,
            freq: cube.freq,
            first: cube.start,
            steps,
            horizon,
            last_period: cube.period(steps - 1),
            last: cube.step(steps - 1).to_vec(),
            damping,
            seasonal,
            lim,
            ncells: n,
        }
    }

    /// Climatology map of `p`.
    pub fn climatology(&self, p: Period) -> Vec<f32> {
        (0..self.ncells)
            .map(|c| self.clim.climatology(p, c))
            .collect()
    }

    /// The training period, `2010-01..2017-12`.
    pub fn training(&self) -> String {
        format!(
            "{}..{}",
            self.first.label(self.freq),
            self.last_period.label(self.freq)
        )
    }

    /// Number of training steps (the first step a forecast may start at).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of EOFs of the LIM (`None` when the training data allowed none).
    pub fn lim_modes(&self) -> Option<usize> {
        self.lim.as_ref().map(|l| l.modes())
    }

    /// The map `method` forecasts for lead `lead` (1-based) at period `p`, made at the end of
    /// the training steps. `None` for the model.
    pub fn forecast(&self, method: Method, lead: usize, p: Period) -> Option<Vec<f32>> {
        self.forecast_at(&self.last, self.last_period, method, lead, p)
    }

    /// The map `method` forecasts for step `start + lead - 1` of `cube` (lead 1-based), made
    /// at step index `start`: only steps before `start` are read (the anomaly of step
    /// `start - 1`). `cube` is the cube the references were fitted on (or one that agrees with
    /// it up to `start`). `None` for the model, for `lead == 0`, and for a start inside the
    /// training steps or past the end of `cube`. With `start` = the training steps this is
    /// [`Self::forecast`].
    pub fn forecast_from(
        &self,
        cube: &Cube,
        start: usize,
        method: Method,
        lead: usize,
    ) -> Option<Vec<f32>> {
        if start < self.steps || start > cube.len() || lead == 0 {
            return None;
        }
        let last_period = cube.period(start - 1);
        let p = Period(last_period.0 + lead as i64);
        self.forecast_at(cube.step(start - 1), last_period, method, lead, p)
    }

    fn forecast_at(
        &self,
        last: &[f32],
        last_period: Period,
        method: Method,
        lead: usize,
        p: Period,
    ) -> Option<Vec<f32>> {
        let n = self.ncells;
        let last_anom = |c: usize| last[c] - self.clim.climatology(last_period, c);
        let clim = |c: usize| self.clim.climatology(p, c);
        let damped = |coef: &[f32], c: usize| {
            // Beyond the fitted leads: no persistence left (climatology).
            let a = if lead <= self.horizon {
                coef[(lead - 1) * n + c]
            } else {
                0.0
            };
            clim(c) + a * last_anom(c)
        };
        let map: Vec<f32> = match method {
            Method::Model => return None,
            Method::Climatology => (0..n).map(clim).collect(),
            Method::Persistence => (0..n).map(|c| clim(c) + last_anom(c)).collect(),
            Method::PersistenceRaw => last.to_vec(),
            Method::DampedPersistence => (0..n).map(|c| damped(&self.damping, c)).collect(),
            Method::SeasonalDampedPersistence => {
                let slot = crate::dataset::slot_of(last_period, self.freq);
                let block = self.horizon * n;
                let coef = &self.seasonal[slot * block..(slot + 1) * block];
                (0..n).map(|c| damped(coef, c)).collect()
            }
            Method::Lim => {
                let anom: Vec<f32> = (0..n).map(last_anom).collect();
                let lim = self.lim.as_ref().map(|l| l.forecast(&anom, lead));
                (0..n)
                    .map(|c| match &lim {
                        Some(a) if !a[c].is_nan() => clim(c) + a[c],
                        _ => damped(&self.damping, c),
                    })
                    .collect()
            }
        };
        Some(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tests::cube;

    /// References see only the training steps: changing anything from the origin on changes
    /// no reference forecast.
    #[test]
    fn references_use_training_data_only() {
        let f = |t: usize, c: usize| {
            10.0 + ((t % 12) as f32) + 0.1 * c as f32 + 0.05 * ((t * 7 + c) % 5) as f32
        };
        let a = cube(2, 2, Period::month(2010, 1), 60, f);
        let b = cube(2, 2, Period::month(2010, 1), 60, |t, c| {
            if t >= 48 {
                99.0
            } else {
                f(t, c)
            }
        });
        let (ra, rb) = (References::fit(&a, 48, 12), References::fit(&b, 48, 12));
        for m in Method::REFERENCES
            .iter()
            .chain([Method::PersistenceRaw].iter())
        {
            for lead in 1..=12 {
                let p = Period::month(2014, lead as u32);
                assert_eq!(ra.forecast(*m, lead, p), rb.forecast(*m, lead, p));
            }
        }
        // Climatology of March = mean of the four training Marches.
        let marches: f32 = (0..4).map(|y| f(y * 12 + 2, 1)).sum::<f32>() / 4.0;
        assert!((ra.climatology(Period::month(2014, 3))[1] - marches).abs() < 1e-5);
    }

    #[test]
    fn damped_persistence_by_hand() {
        // One cell, no seasonal cycle in the anomalies' scale: anomalies alternate +1, -1 ...
        // plus climatology. lag-1 regression = -1 -> clipped to 0; lag-2 = +1.
        let c = cube(1, 1, Period::month(2000, 1), 48, |t, _| {
            if t % 2 == 0 {
                1.0
            } else {
                -1.0
            }
        });
        // Monthly climatology is +1 for even months, -1 for odd: anomalies are all 0. Use a
        // 13-month pattern instead so anomalies survive the monthly climatology.
        let _ = c;
        let c = cube(1, 1, Period::month(2000, 1), 52, |t, _| {
            ((t % 13) as f32 * 0.7).sin()
        });
        let r = References::fit(&c, 52, 2);
        for lead in 1..=2 {
            let a = r.damping[lead - 1];
            assert!((0.0..=1.0).contains(&a), "lead {lead}: {a}");
        }
        let last_anom = c.step(51)[0] - r.climatology(c.period(51))[0];
        let p = Period::month(2004, 5);
        let d = r.forecast(Method::DampedPersistence, 1, p).unwrap()[0];
        assert!((d - (r.climatology(p)[0] + r.damping[0] * last_anom)).abs() < 1e-6);
    }

    /// A seasonal, noisy test field of a few cells: red-noise anomalies whose persistence
    /// depends on the calendar month.
    fn field(t: usize, c: usize) -> f32 {
        let mut a = 0.0f32;
        for k in 0..=t {
            let phi = if k % 12 < 6 { 0.9 } else { 0.4 };
            let kick = (((k * 7919 + c * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.6;
            a = phi * a + kick;
        }
        15.0 + 3.0 * ((t % 12) as f32 * 0.52).sin() + c as f32 * 0.3 + a
    }

    /// The two new references, and every other, read no step from the training end on:
    /// poisoning those steps with NaN or huge values changes no forecast.
    #[test]
    fn new_references_use_training_data_only() {
        let steps = 96;
        let a = cube(2, 3, Period::month(2000, 1), 120, field);
        let r = References::fit(&a, steps, 12);
        assert!(r.lim_modes().is_some_and(|m| m >= 1));
        for poison in [f32::NAN, 1.0e6] {
            let b = cube(2, 3, Period::month(2000, 1), 120, |t, c| {
                if t >= steps {
                    poison
                } else {
                    field(t, c)
                }
            });
            let rb = References::fit(&b, steps, 12);
            for m in Method::REFERENCES {
                for lead in 1..=12 {
                    let p = Period::month(2008, lead as u32);
                    let fa = r.forecast(m, lead, p).unwrap();
                    assert_eq!(fa, rb.forecast(m, lead, p).unwrap(), "{m:?} lead {lead}");
                    assert!(fa.iter().all(|v| v.is_finite()), "{m:?} lead {lead}");
                    // From the training end, forecast_from is the forecast path.
                    assert_eq!(Some(fa), r.forecast_from(&a, steps, m, lead), "{m:?}");
                }
            }
        }
    }

    /// A start in June, after the training steps: forecast_from reads only steps before
    /// the start (poisoning the start month and everything after changes nothing), and uses
    /// the anomaly of May.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn forecast_from_a_june_start_uses_nothing_at_or_after_the_start() {
        let (steps, start) = (96, 101);
        let a = cube(2, 3, Period::month(2000, 1), 120, field);
        assert_eq!(a.period(start), Period::month(2008, 6));
        let r = References::fit(&a, steps, 12);
        for poison in [f32::NAN, -1.0e6] {
            let b = cube(2, 3, Period::month(2000, 1), 120, |t, c| {
                if t >= start {
                    poison
                } else {
                    field(t, c)
                }
            });
            for m in Method::ALL {
                for lead in 1..=12 {
                    assert_eq!(
                        r.forecast_from(&a, start, m, lead),
                        r.forecast_from(&b, start, m, lead),
                        "{m:?} lead {lead}"
                    );
                }
            }
        }
        // Persistence from the anomaly of May (step start - 1).
        let p = a.period(start + 2);
        let may = a.period(start - 1);
        let pers = r.forecast_from(&a, start, Method::Persistence, 3).unwrap();
        for c in 0..6 {
            let want = r.climatology(p)[c] + a.step(start - 1)[c] - r.climatology(may)[c];
            assert!((pers[c] - want).abs() < 1e-5);
        }
        // No forecast from inside the training period, none for the model.
        assert!(r
            .forecast_from(&a, steps - 1, Method::Climatology, 1)
            .is_none());
        assert!(r.forecast_from(&a, start, Method::Model, 1).is_none());
    }

    /// Seasonal damped persistence by hand on three years of one cell: the lead-L
    /// coefficient of a January start uses only the December pairs (t = 11, 23), of a May
    /// start only the April pairs.
    #[test]
    fn seasonal_damped_persistence_by_hand() {
        let v = |t: usize| ((t * 7919 % 101) as f32) * 0.05 + (t % 12) as f32;
        let c = cube(1, 1, Period::month(2000, 1), 48, |t, _| v(t));
        let r = References::fit(&c, 36, 3);
        // Climatology and anomalies by hand.
        let clim = |m: usize| (0..3).map(|y| v(12 * y + m)).sum::<f32>() / 3.0;
        let anom = |t: usize| (v(t) - clim(t % 12)) as f64;
        let coef = |month: usize, lead: usize| {
            let (mut xy, mut xx) = (0.0, 0.0);
            for t in (month..36).step_by(12).filter(|t| t + lead < 36) {
                xy += anom(t) * anom(t + lead);
                xx += anom(t) * anom(t);
            }
            (xy / xx).clamp(0.0, 1.0) as f32
        };
        let mut nonzero = 0;
        for (start, before) in [(36usize, 11usize), (40, 3)] {
            for lead in 1..=3 {
                let k = coef(before, lead);
                nonzero += usize::from(k > 0.0 && k < 1.0);
                let got = r
                    .forecast_from(&c, start, Method::SeasonalDampedPersistence, lead)
                    .unwrap()[0];
                let target = (start + lead - 1) % 12;
                let want = clim(target) + k * (v(start - 1) - clim(before));
                assert!(
                    (got - want).abs() < 1e-4,
                    "start {start} lead {lead}: {got} {want}"
                );
            }
        }
        assert!(
            nonzero > 0,
            "the example exercises an unclipped coefficient"
        );
        // The ordinary coefficients (all months) differ from the seasonal ones here.
        let d = r
            .forecast_from(&c, 36, Method::DampedPersistence, 1)
            .unwrap()[0];
        let s = r
            .forecast_from(&c, 36, Method::SeasonalDampedPersistence, 1)
            .unwrap()[0];
        assert!((d - s).abs() > 1e-4);
    }

    /// With annual steps there is no calendar month: seasonal damped persistence is damped
    /// persistence, and the LIM still fits (validation on the last years).
    #[test]
    fn annual_seasonal_is_damped_persistence() {
        let mut c = cube(2, 3, Period::month(2000, 1), 60, field);
        c.freq = Frequency::Annual;
        c.start = Period(1950);
        let r = References::fit(&c, 50, 3);
        assert!(r.lim_modes().is_some());
        for start in [50, 55] {
            for lead in 1..=3 {
                let d = r.forecast_from(&c, start, Method::DampedPersistence, lead);
                let s = r.forecast_from(&c, start, Method::SeasonalDampedPersistence, lead);
                assert_eq!(d, s);
                let l = r.forecast_from(&c, start, Method::Lim, lead).unwrap();
                assert!(l.iter().all(|v| v.is_finite()));
            }
        }
    }
}
