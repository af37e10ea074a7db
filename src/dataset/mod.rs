//! Training data: normalisation and (input, target) windows for one region ([`Normaliser`],
//! [`window_starts`]), and for the whole grid the repairs and cuts made before any region is
//! built ([`gaps`]: short holes interpolated, long ones masked; [`prep`]: the training steps
//! before the forecast start, the ocean mask and the global trend).
//!
//! Everything here sees **only the training period** (the steps before the forecast
//! reference time); the caller cuts the series before handing it over, so no statistic,
//! window or mask can be computed from the future.
//!
//! Normalisation: the model works on standardised anomalies. Each cell's climatology (its
//! mean for each calendar month, or its overall mean for annual series) is removed, and
//! the anomalies of the whole region are divided by one scale (their standard deviation),
//! which keeps the relative amplitude of the cells. Forecasts are mapped back with the same
//! climatology and scale. Removing the seasonal cycle leaves the recurrent model the part
//! that is hard to forecast, instead of spending its capacity on re-learning the calendar.
//!
//! Optionally the climatology carries a linear **trend** ([`Trend::Global`]): the slope of
//! the area-weighted global-mean anomaly over the training period, one number for every
//! cell, fitted by the caller on the whole ocean ([`trend_slope`]). The anomalies the model
//! sees are then taken about a climatology that warms along that line (centred on the middle
//! of the training period), and the forecast is mapped back onto the line extrapolated into
//! the forecast year. Why: a climatology of 8 years is centred 4-5 years before the year it
//! forecasts, and global SST rose over 2010-2017; damped persistence about such a stale
//! mean relaxes every forecast toward a climate that is already gone. Why one global slope
//! and not one per cell or per tile: per-cell slopes over 8 years are mostly ENSO and
//! decadal noise. Measured offline on hindcasts of 2013-2017 (docs/skill.md), a
//! global slope lowered damped persistence's RMSE by 0.005 degC on average and per-cell or
//! per-tile slopes raised it by 0.04-0.05.

pub mod drivers;
pub mod gaps;
pub mod prep;

use crate::time::{Frequency, Period};

/// A slope per step as degrees per decade.
pub fn per_decade(slope: f64, freq: Frequency) -> f64 {
    slope
        * match freq {
            Frequency::Monthly => 120.0,
            Frequency::Annual => 10.0,
        }
}

/// Whether the climatology the model works about carries a trend (module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// A fixed climatology: each cell's mean for each calendar month.
    #[default]
    None,
    /// The climatology plus the global-mean linear trend of the training period.
    Global,
}

/// Per-cell climatology (optionally with a linear trend) plus one region-wide scale, fitted
/// on training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Normaliser {
    freq: Frequency,
    channels: usize,
    /// `[slot][channel]`: 12 calendar-month slots for monthly series, 1 for annual.
    clim: Vec<f32>,
    scale: f32,
    /// Trend of the climatology, degrees per step (0 = none).
    slope: f64,
    /// Period index the trend line is centred on (the middle of the training period).
    centre: f64,
}

impl Normaliser {
    /// Fits on `series` (`[t][channel]`, all finite) whose first step is `start`.
    pub fn fit(series: &[f32], channels: usize, start: Period, freq: Frequency) -> Self {
        Self::fit_with_trend(series, channels, start, freq, 0.0)
    }

    /// As [`Self::fit`], with a climatology that rises by `slope` (degrees per step) along a
    /// line centred on the middle of the training period; the seasonal means are those of
    /// the values less the line.
    pub fn fit_with_trend(
        series: &[f32],
        channels: usize,
        start: Period,
        freq: Frequency,
        slope: f64,
    ) -> Self {
        let slots = slot_count(freq);
        let nt = series.len() / channels;
        let centre = start.0 as f64 + (nt.max(1) - 1) as f64 / 2.0;
        let line = |t: usize| slope * (t as f64 + start.0 as f64 - centre);
        let mut sum = vec![0.0f64; slots * channels];
        let mut count = vec![0usize; slots];
        for t in 0..nt {
            let s = slot_of(Period(start.0 + t as i64), freq);
            count[s] += 1;
            for c in 0..channels {
                sum[s * channels + c] += series[t * channels + c] as f64 - line(t);
            }
        }
        let clim: Vec<f32> = (0..slots * channels)
            .map(|k| {
                let n = count[k / channels];
                if n == 0 {
                    0.0
                } else {
                    (sum[k] / n as f64) as f32
                }
            })
            .collect();
        let mut ss = 0.0f64;
        for t in 0..nt {
            let s = slot_of(Period(start.0 + t as i64), freq);
            for c in 0..channels {
                let a = (series[t * channels + c] - clim[s * channels + c]) as f64 - line(t);
                ss += a * a;
            }
        }
        let sd = (ss / (nt * channels).max(1) as f64).sqrt() as f32;
        Self {
            freq,
            channels,
            clim,
            scale: if sd > 1e-6 { sd } else { 1.0 },
            slope,
            centre,
        }
    }

    /// Climatology of `period` for channel `c` (with the trend line, if any).
    pub fn climatology(&self, period: Period, c: usize) -> f32 {
        let line = self.slope * (period.0 as f64 - self.centre);
        (self.clim[slot_of(period, self.freq) * self.channels + c] as f64 + line) as f32
    }

    /// Standardised anomaly of a value.
    pub fn encode(&self, v: f32, period: Period, c: usize) -> f32 {
        (v - self.climatology(period, c)) / self.scale
    }

    /// Inverse of [`Self::encode`].
    pub fn decode(&self, a: f32, period: Period, c: usize) -> f32 {
        a * self.scale + self.climatology(period, c)
    }

    /// Encodes a whole `[t][channel]` series starting at `start`.
    pub fn encode_series(&self, series: &[f32], start: Period) -> Vec<f32> {
        series
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                let (t, c) = (k / self.channels, k % self.channels);
                self.encode(v, Period(start.0 + t as i64), c)
            })
            .collect()
    }
}

/// Slots of a frequency: 12 calendar months, or 1 for annual series.
pub fn slot_count(freq: Frequency) -> usize {
    match freq {
        Frequency::Monthly => 12,
        Frequency::Annual => 1,
    }
}

/// The slot (calendar month 0..12, or 0 for annual series) of a period.
pub fn slot_of(p: Period, freq: Frequency) -> usize {
    match freq {
        Frequency::Monthly => p.0.rem_euclid(12) as usize,
        Frequency::Annual => 0,
    }
}

/// The linear trend, in units per step, of a series of consecutive steps from `start` with
/// a seasonal cycle: the least-squares slope of a fit of one mean per calendar slot (month;
/// one slot for annual data) plus one line. Each value is compared with the others of its
/// own slot, so a seasonal cycle, and a record that starts or ends mid-year, do not leak
/// into the slope. Used on the area-weighted mean anomaly of the ocean. 0 when no slot has
/// two values.
pub fn trend_slope(values: &[f64], start: Period, freq: Frequency) -> f64 {
    let n = slot_count(freq);
    let slot_at = |t: usize| slot_of(Period(start.0 + t as i64), freq);
    let (mut st, mut sv, mut count) = (vec![0.0f64; n], vec![0.0f64; n], vec![0usize; n]);
    for (t, v) in values.iter().enumerate() {
        let k = slot_at(t);
        st[k] += t as f64;
        sv[k] += v;
        count[k] += 1;
    }
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in values.iter().enumerate() {
        let k = slot_at(t);
        let x = t as f64 - st[k] / count[k] as f64;
        sxy += x * (v - sv[k] / count[k] as f64);
        sxx += x * x;
    }
    if sxx > 0.0 {
        sxy / sxx
    } else {
        0.0
    }
}

/// Damped-persistence coefficients `[lead][channel]` of an anomaly series `[t][channel]`:
/// for each lead L, the least-squares slope (through the origin) of anomaly(t+L) on
/// anomaly(t), clipped to 0..1. Pairs with a non-finite value are skipped. The one-slot
/// case of [`seasonal_damping`].
pub fn damping(series: &[f32], channels: usize, horizon: usize) -> Vec<f32> {
    seasonal_damping(series, channels, Period(0), Frequency::Annual, horizon, 0.0)
}

/// Seasonal damped-persistence coefficients `[slot][lead][channel]` of an anomaly series
/// `[t][channel]` whose first step is `start`: for each calendar slot m of the origin step
/// (the last observed step; 12 months, or 1 slot for annual series), lead L and channel, the
/// least-squares slope through the origin of anomaly(t+L) on anomaly(t) over the pairs with
/// t in slot m, clipped to 0..1. Non-finite pairs are skipped.
///
/// `prior` shrinks each slot's slope toward the all-slot slope of [`damping`], as if `prior`
/// extra pairs agreed with it: `(n_m a_m + prior a) / (n_m + prior)` before clipping, with
/// `n_m` the slot's pairs (so the shrinkage fades as the record grows). Why: a short record
/// has a handful of pairs per calendar month (six with six training years), and unshrunk
/// seasonal slopes then forecast worse than one slope for all months (measured in the issue
/// 13 hindcasts: ERSST 2016-2019, seasonal 0.528 degC against 0.514); with 144 years the
/// seasonal slopes win (Kaplan 2000-2013: 0.473 against 0.480). `prior = 0` gives the plain
/// per-month slopes (the verification's reference). Annual series have one slot, whose
/// slope is the all-slot slope.
pub fn seasonal_damping(
    series: &[f32],
    channels: usize,
    start: Period,
    freq: Frequency,
    horizon: usize,
    prior: f64,
) -> Vec<f32> {
    let n = channels.max(1);
    let nt = series.len() / n;
    let cells = slot_count(freq) * horizon * n;
    let (mut xy, mut xx, mut pairs) = (vec![0.0f64; cells], vec![0.0f64; cells], vec![0u32; cells]);
    let (mut all_xy, mut all_xx) = (vec![0.0f64; horizon * n], vec![0.0f64; horizon * n]);
    for t in 0..nt {
        let slot = slot_of(Period(start.0 + t as i64), freq);
        let x = &series[t * n..(t + 1) * n];
        for lead in 1..=horizon.min(nt - 1 - t) {
            let y = &series[(t + lead) * n..(t + lead + 1) * n];
            let o = (lead - 1) * n;
            for c in 0..n {
                let (a, b) = (x[c] as f64, y[c] as f64);
                if a.is_finite() && b.is_finite() {
                    xy[slot * horizon * n + o + c] += a * b;
                    xx[slot * horizon * n + o + c] += a * a;
                    pairs[slot * horizon * n + o + c] += 1;
                    all_xy[o + c] += a * b;
                    all_xx[o + c] += a * a;
                }
            }
        }
    }
    let slope = |xy: f64, xx: f64| if xx > 0.0 { xy / xx } else { 0.0 };
    (0..cells)
        .map(|k| {
            let pooled = slope(all_xy[k % (horizon * n)], all_xx[k % (horizon * n)]);
            let own = slope(xy[k], xx[k]);
            // (m own + prior pooled) / (m + prior), written so that prior 0 gives `own`
            // exactly.
            let m = pairs[k] as f64;
            let a = if m + prior > 0.0 {
                own + (pooled - own) * (prior / (m + prior))
            } else {
                0.0
            };
            a.clamp(0.0, 1.0) as f32
        })
        .collect()
}

/// Start indices of every full (window + horizon) sample inside `nt` training steps.
pub fn window_starts(nt: usize, window: usize, horizon: usize) -> Vec<usize> {
    if nt < window + horizon {
        return Vec::new();
    }
    (0..=nt - window - horizon).collect()
}

/// Copies `len` steps from `start` of a `[t][channel]` series.
pub fn slice_steps(series: &[f32], channels: usize, start: usize, len: usize) -> &[f32] {
    &series[start * channels..(start + len) * channels]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climatology_and_scale_roundtrip() {
        // Two channels, 24 months: seasonal cycle + channel offset + small anomaly.
        let start = Period::month(2000, 1);
        let series: Vec<f32> = (0..24)
            .flat_map(|t| {
                let seasonal = (t % 12) as f32;
                let anomaly = if t < 12 { -1.0 } else { 1.0 };
                [10.0 + seasonal + anomaly, 20.0 + seasonal + anomaly]
            })
            .collect();
        let n = Normaliser::fit(&series, 2, start, Frequency::Monthly);
        assert_eq!(n.climatology(Period::month(2005, 3), 0), 12.0);
        assert_eq!(n.climatology(Period::month(2005, 3), 1), 22.0);
        assert!((n.scale - 1.0).abs() < 1e-6);
        let enc = n.encode_series(&series, start);
        assert!((enc[0] + 1.0).abs() < 1e-6 && (enc[47] - 1.0).abs() < 1e-6);
        assert!((n.decode(enc[5], Period::month(2000, 3), 1) - series[5]).abs() < 1e-5);
    }

    #[test]
    fn trend_slope_by_hand() {
        let annual = |v: &[f64]| trend_slope(v, Period(2000), Frequency::Annual);
        // 1, 3, 5, 7: slope 2 per step, whatever the offset.
        assert!((annual(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-12);
        assert!((annual(&[10.0, 9.0, 8.0]) + 1.0).abs() < 1e-12);
        // Symmetric noise about a flat line: no trend.
        assert_eq!(annual(&[0.0, 1.0, -1.0, 1.0, 0.0]), 0.0);
        assert_eq!(annual(&[5.0]), 0.0);
        // Monthly: a strong seasonal cycle plus 0.01 per month, starting in July and ending
        // mid-year (2.5 years): the slope is the line's, not the cycle's.
        let start = Period::month(2000, 7);
        let v: Vec<f64> = (0..30)
            .map(|t| 5.0 * ((t + 6) as f64 * std::f64::consts::PI / 6.0).sin() + 0.01 * t as f64)
            .collect();
        assert!((trend_slope(&v, start, Frequency::Monthly) - 0.01).abs() < 1e-12);
        // A month seen once only carries no information about the slope.
        assert_eq!(trend_slope(&[1.0, 2.0], start, Frequency::Monthly), 0.0);
    }

    #[test]
    fn trended_climatology_removes_the_line_and_extrapolates_it() {
        // One channel, 3 years of a fixed seasonal cycle plus 0.1 per month.
        let start = Period::month(2000, 1);
        let series: Vec<f32> = (0..36)
            .map(|t| 10.0 + (t % 12) as f32 + 0.1 * t as f32)
            .collect();
        let n = Normaliser::fit_with_trend(&series, 1, start, Frequency::Monthly, 0.1);
        let enc = n.encode_series(&series, start);
        // The anomalies about the trended climatology are all zero (to rounding) ...
        assert!(enc.iter().all(|a| a.abs() < 1e-3), "{enc:?}");
        // ... and the climatology of a later month continues the line: March 2004 is month
        // 50, so 10 + 2 + 5.0.
        let march = n.climatology(Period::month(2004, 3), 0);
        assert!((march - 17.0).abs() < 1e-4, "{march}");
        // Without the trend the same month gets the plain training mean of March (13.4).
        let plain = Normaliser::fit(&series, 1, start, Frequency::Monthly);
        assert!((plain.climatology(Period::month(2004, 3), 0) - 13.4).abs() < 1e-4);
    }

    #[test]
    fn damping_by_hand() {
        // Channel 0: x = 1, 2, 1, 2 -> lag 1 slope = (2 + 2 + 2) / (1 + 4 + 1) = 1.0;
        // lag 2 slope = (1 + 4) / (1 + 4) = 1. Channel 1: alternating sign -> negative -> 0.
        let s = [1.0f32, 1.0, 2.0, -1.0, 1.0, 1.0, 2.0, -1.0];
        let d = damping(&s, 2, 2);
        assert_eq!(d, vec![1.0, 0.0, 1.0, 1.0]);
        // Lag 1 of 1, 0.5, 0.25: (0.5 + 0.125) / (1 + 0.25) = 0.5.
        assert_eq!(damping(&[1.0, 0.5, 0.25], 1, 1), vec![0.5]);
    }

    #[test]
    fn windows_fit_inside_training_steps() {
        assert_eq!(window_starts(10, 4, 3), vec![0, 1, 2, 3]);
        assert!(window_starts(6, 4, 3).is_empty());
    }
}
