//! Training data for one region: normalisation and (input, target) windows.
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

use crate::time::{Frequency, Period};

/// Per-cell climatology plus one region-wide scale, fitted on training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Normaliser {
    freq: Frequency,
    channels: usize,
    /// `[slot][channel]`: 12 calendar-month slots for monthly series, 1 for annual.
    clim: Vec<f32>,
    scale: f32,
}

impl Normaliser {
    /// Fits on `series` (`[t][channel]`, all finite) whose first step is `start`.
    pub fn fit(series: &[f32], channels: usize, start: Period, freq: Frequency) -> Self {
        let slots = slots(freq);
        let nt = series.len() / channels;
        let mut sum = vec![0.0f64; slots * channels];
        let mut count = vec![0usize; slots];
        for t in 0..nt {
            let s = slot(Period(start.0 + t as i64), freq);
            count[s] += 1;
            for c in 0..channels {
                sum[s * channels + c] += series[t * channels + c] as f64;
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
            let s = slot(Period(start.0 + t as i64), freq);
            for c in 0..channels {
                let a = (series[t * channels + c] - clim[s * channels + c]) as f64;
                ss += a * a;
            }
        }
        let sd = (ss / (nt * channels).max(1) as f64).sqrt() as f32;
        Self {
            freq,
            channels,
            clim,
            scale: if sd > 1e-6 { sd } else { 1.0 },
        }
    }

    /// Climatology of `period` for channel `c`.
    pub fn climatology(&self, period: Period, c: usize) -> f32 {
        self.clim[slot(period, self.freq) * self.channels + c]
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

fn slots(freq: Frequency) -> usize {
    match freq {
        Frequency::Monthly => 12,
        Frequency::Annual => 1,
    }
}

fn slot(p: Period, freq: Frequency) -> usize {
    match freq {
        Frequency::Monthly => p.0.rem_euclid(12) as usize,
        Frequency::Annual => 0,
    }
}

/// Damped-persistence coefficients `[lead][channel]` of an anomaly series `[t][channel]`:
/// for each lead L, the least-squares slope (through the origin) of anomaly(t+L) on
/// anomaly(t), clipped to 0..1. Pairs with a non-finite value are skipped.
pub fn damping(series: &[f32], channels: usize, horizon: usize) -> Vec<f32> {
    let nt = series.len() / channels.max(1);
    let mut out = vec![0.0f32; horizon * channels];
    for lead in 1..=horizon {
        for c in 0..channels {
            let (mut xy, mut xx) = (0.0f64, 0.0f64);
            for t in 0..nt.saturating_sub(lead) {
                let x = series[t * channels + c] as f64;
                let y = series[(t + lead) * channels + c] as f64;
                if x.is_finite() && y.is_finite() {
                    xy += x * y;
                    xx += x * x;
                }
            }
            let a = if xx > 0.0 {
                (xy / xx).clamp(0.0, 1.0)
            } else {
                0.0
            };
            out[(lead - 1) * channels + c] = a as f32;
        }
    }
    out
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
