//! Block bootstrap over start years: 95% intervals of means over forecast starts.
//!
//! Starts of the same year share the same ocean state (and consecutive monthly starts share
//! most of their targets), so they are not independent samples: resampling single starts
//! would give intervals far too narrow. The resampling unit is a **block** (a calendar year of
//! starts): each replicate draws as many blocks as there are, with replacement, and recomputes
//! the statistic from the starts of the drawn blocks (a block drawn twice counts twice). The
//! statistic of a lead is the mean over the starts verified at that lead; the statistic over
//! leads is the mean of those per-lead means, as in the point estimate. Every interval of one
//! hindcast uses the same draws (a fixed seed): differences between methods and regions are
//! compared on the same resamples.

/// Per-block sums and counts of one quantity: `[block][lead]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocks {
    /// Number of leads.
    pub leads: usize,
    /// `[block][lead]` sums of the per-start values.
    pub sums: Vec<f64>,
    /// `[block][lead]` numbers of starts summed.
    pub counts: Vec<f64>,
}

impl Blocks {
    /// Empty sums for `blocks` blocks and `leads` leads.
    pub fn new(blocks: usize, leads: usize) -> Self {
        Self {
            leads,
            sums: vec![0.0; blocks * leads],
            counts: vec![0.0; blocks * leads],
        }
    }

    /// Adds a value of a start in `block` at lead index `lead` (0-based).
    pub fn add(&mut self, block: usize, lead: usize, value: f64) {
        self.sums[block * self.leads + lead] += value;
        self.counts[block * self.leads + lead] += 1.0;
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.sums.len() / self.leads.max(1)
    }

    /// Per-lead means and their mean over the leads that have a start, weighting block `b`
    /// by `weight[b]` (all ones: the point estimate).
    pub fn means(&self, weight: &[f64]) -> (Vec<Option<f64>>, Option<f64>) {
        let per_lead: Vec<Option<f64>> = (0..self.leads)
            .map(|l| {
                let (mut s, mut n) = (0.0, 0.0);
                for (b, &w) in weight.iter().enumerate() {
                    if w != 0.0 {
                        s += w * self.sums[b * self.leads + l];
                        n += w * self.counts[b * self.leads + l];
                    }
                }
                (n > 0.0).then(|| s / n)
            })
            .collect();
        let present: Vec<f64> = per_lead.iter().flatten().copied().collect();
        let mean =
            (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64);
        (per_lead, mean)
    }
}

/// 95% intervals: per lead, and of the mean over leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Intervals {
    /// Per lead: `(low, high)`, `None` without starts.
    pub per_lead: Vec<Option<(f64, f64)>>,
    /// Of the mean over leads.
    pub mean: Option<(f64, f64)>,
}

/// The replicate weights: `replicates` rows of how many times each of `blocks` blocks is
/// drawn, from a fixed seed.
pub fn draws(blocks: usize, replicates: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed;
    (0..replicates)
        .map(|_| {
            let mut w = vec![0.0; blocks];
            for _ in 0..blocks {
                w[(next_u64(&mut state) % blocks as u64) as usize] += 1.0;
            }
            w
        })
        .collect()
}

/// The 2.5% and 97.5% quantiles of the statistic over the replicates `draws`.
pub fn intervals(blocks: &Blocks, draws: &[Vec<f64>]) -> Intervals {
    let mut per_lead: Vec<Vec<f64>> = vec![Vec::with_capacity(draws.len()); blocks.leads];
    let mut mean = Vec::with_capacity(draws.len());
    for w in draws {
        let (l, m) = blocks.means(w);
        for (k, v) in l.into_iter().enumerate() {
            if let Some(v) = v {
                per_lead[k].push(v);
            }
        }
        if let Some(m) = m {
            mean.push(m);
        }
    }
    // A lead seen in only some replicates (few starts) has no honest interval.
    let full = |v: &mut Vec<f64>| (v.len() == draws.len() && !v.is_empty()).then(|| ci95(v));
    Intervals {
        per_lead: per_lead.iter_mut().map(full).collect(),
        mean: full(&mut mean),
    }
}

/// 2.5% and 97.5% quantiles (linear interpolation between order statistics).
fn ci95(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (lo, frac) = (h.floor() as usize, h - h.floor());
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + frac * (v[hi] - v[lo])
    };
    (q(0.025), q(0.975))
}

/// SplitMix64: a fixed stream, independent of any crate's version.
fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `years` years of 12 starts, one lead; the value of a start is its year's shift plus
    /// a small within-year wiggle.
    fn blocks_of(years: usize, per_start_blocks: bool) -> Blocks {
        let mut b = Blocks::new(if per_start_blocks { years * 12 } else { years }, 1);
        for y in 0..years {
            let shift = ((y * 7919 % 13) as f64 - 6.0) * 0.1;
            for m in 0..12 {
                let v = 0.5 + shift + 0.01 * ((m * 31 % 7) as f64 - 3.0);
                b.add(if per_start_blocks { y * 12 + m } else { y }, 0, v);
            }
        }
        b
    }

    #[test]
    fn the_interval_contains_the_mean_and_narrows_with_more_years() {
        let width = |years: usize| {
            let b = blocks_of(years, false);
            let (_, mean) = b.means(&vec![1.0; b.blocks()]);
            let i = intervals(&b, &draws(b.blocks(), 2000, 42));
            let (lo, hi) = i.mean.unwrap();
            let m = mean.unwrap();
            assert!(lo <= m && m <= hi, "{lo} {m} {hi}");
            assert_eq!(i.per_lead[0], i.mean, "one lead: the same statistic");
            hi - lo
        };
        let (w10, w40) = (width(10), width(40));
        assert!(w40 < 0.75 * w10, "10 years: {w10}, 40 years: {w40}");
    }

    /// Same-year starts move together: resampling years keeps them together and gives a
    /// wider interval than resampling single starts would (the iid bootstrap's false
    /// confidence).
    #[test]
    fn year_blocks_widen_the_interval_of_correlated_starts() {
        let w = |b: &Blocks| {
            let (lo, hi) = intervals(b, &draws(b.blocks(), 2000, 7)).mean.unwrap();
            hi - lo
        };
        let (block, iid) = (w(&blocks_of(14, false)), w(&blocks_of(14, true)));
        assert!(block > 2.5 * iid, "blocks {block}, single starts {iid}");
    }

    #[test]
    fn weighted_means_by_hand() {
        let mut b = Blocks::new(2, 2);
        b.add(0, 0, 1.0);
        b.add(0, 0, 3.0);
        b.add(1, 0, 5.0);
        b.add(1, 1, 4.0);
        let (l, m) = b.means(&[1.0, 1.0]);
        assert_eq!(l, vec![Some(3.0), Some(4.0)]);
        assert_eq!(m, Some(3.5));
        // Block 0 twice, block 1 not drawn: lead 2 has no start.
        let (l, m) = b.means(&[2.0, 0.0]);
        assert_eq!(l, vec![Some(2.0), None]);
        assert_eq!(m, Some(2.0));
        // Draws: each replicate draws as many blocks as there are.
        assert!(draws(5, 10, 1).iter().all(|w| w.iter().sum::<f64>() == 5.0));
    }
}
