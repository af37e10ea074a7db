//! The assembled forecast: every region's values put back onto the input grid.
//!
//! [`crate::fit`] produces one [`RegionForecast`] per region; [`assemble`] lays them onto the
//! grid, averaging cells that belong to several regions (a named box over tiles) in the fixed
//! order of the regions, so a forecast assembled from saved results (a resumed run, a Slurm
//! merge) is bit-identical to an uninterrupted one. A [`Forecast`] is what every later stage
//! reads: the writers, the figures and the verification. A forecast read back from its
//! NetCDF file (`sstcast skill`) is the same type, with the regions of the run.

use crate::fit::RegionForecast;
use crate::grid::{Cube, LatLon};
use crate::region::Region;
use crate::time::{Frequency, Period};

/// The assembled forecast.
#[derive(Debug, Clone)]
pub struct Forecast {
    /// Grid.
    pub grid: LatLon,
    /// Step frequency.
    pub freq: Frequency,
    /// Period of lead 1 (the origin).
    pub first: Period,
    /// Number of leads.
    pub horizon: usize,
    /// `[lead][cell]`, degC, NaN outside every region.
    pub values: Vec<f32>,
    /// The regions forecast (ids and cells), in the order of the run.
    pub regions: Vec<Region>,
}

impl Forecast {
    /// Map of lead `k` (0-based).
    pub fn lead(&self, k: usize) -> &[f32] {
        let n = self.grid.ncells();
        &self.values[k * n..(k + 1) * n]
    }

    /// Mean over all leads, per cell (NaN where any lead is NaN).
    pub fn mean_over_leads(&self) -> Vec<f32> {
        let n = self.grid.ncells();
        (0..n)
            .map(|c| {
                (0..self.horizon)
                    .map(|k| self.values[k * n + c])
                    .sum::<f32>()
                    / self.horizon as f32
            })
            .collect()
    }
}

/// Puts region forecasts on the grid of `cube` (cells in several regions get their mean,
/// summed in the order of `values`); `regions` are the regions of the run.
pub fn assemble(
    cube: &Cube,
    origin: Period,
    horizon: usize,
    regions: &[Region],
    values: &[RegionForecast],
) -> Forecast {
    let parts: Vec<(&[usize], &[f32])> = values
        .iter()
        .map(|r| (&r.cells[..], &r.values[..]))
        .collect();
    lay_out(cube, origin, horizon, regions, &parts)
}

/// One forecast per start (`starts` in the order the fit made them: `values` hold
/// `[start][lead][channel]`), from the ensemble mean (`member` `None`) or one member's values.
pub fn assemble_starts(
    cube: &Cube,
    starts: &[Period],
    horizon: usize,
    regions: &[Region],
    values: &[RegionForecast],
    member: Option<usize>,
) -> Vec<Forecast> {
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let parts: Vec<(&[usize], &[f32])> = values
                .iter()
                .map(|r| {
                    let all = match member {
                        None => &r.values,
                        Some(k) => &r.members[k],
                    };
                    let block = horizon * r.cells.len();
                    (&r.cells[..], &all[i * block..(i + 1) * block])
                })
                .collect();
            lay_out(cube, start, horizon, regions, &parts)
        })
        .collect()
}

/// Each region's `[lead][channel]` values (with its cells) onto the grid.
fn lay_out(
    cube: &Cube,
    origin: Period,
    horizon: usize,
    regions: &[Region],
    parts: &[(&[usize], &[f32])],
) -> Forecast {
    let n = cube.grid.ncells();
    let mut sum = vec![0.0f64; horizon * n];
    let mut count = vec![0u32; horizon * n];
    for (cells, values) in parts {
        let ch = cells.len();
        for lead in 0..horizon {
            for (c, &cell) in cells.iter().enumerate() {
                sum[lead * n + cell] += values[lead * ch + c] as f64;
                count[lead * n + cell] += 1;
            }
        }
    }
    let values = sum
        .iter()
        .zip(&count)
        .map(|(&s, &k)| {
            if k == 0 {
                f32::NAN
            } else {
                (s / k as f64) as f32
            }
        })
        .collect();
    Forecast {
        grid: cube.grid.clone(),
        freq: cube.freq,
        first: origin,
        horizon,
        values,
        regions: regions.to_vec(),
    }
}

/// Which regions forecast with trained weights: the validation gate's outcome over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateSummary {
    /// Regions where every ensemble member kept trained weights.
    pub all: usize,
    /// Regions where some members did.
    pub some: usize,
    /// Regions where no member did: their forecast is the untrained baseline.
    pub none: Vec<String>,
}

impl GateSummary {
    /// The summary of `(region id, record)` pairs.
    pub fn of<'a>(records: impl IntoIterator<Item = (&'a str, &'a crate::fit::FitRecord)>) -> Self {
        let mut g = Self::default();
        for (id, r) in records {
            let kept = r.kept_members();
            if kept == 0 {
                g.none.push(id.to_string());
            } else if kept == r.best_epochs.len() {
                g.all += 1;
            } else {
                g.some += 1;
            }
        }
        g
    }

    /// One sentence for tables and file comments.
    pub fn sentence(&self) -> String {
        let total = self.all + self.some + self.none.len();
        let mut s = format!(
            "Trained weights kept by the validation gate: all members in {} of {total} regions, some in {}, none in {}",
            self.all,
            self.some,
            self.none.len()
        );
        if !self.none.is_empty() {
            // The first few by name (the forecast NetCDF lists them all).
            const NAMED: usize = 12;
            s.push_str(" (these forecast their untrained baseline, damped persistence: ");
            s.push_str(&self.none[..self.none.len().min(NAMED)].join(", "));
            if self.none.len() > NAMED {
                s.push_str(&format!(" and {} more", self.none.len() - NAMED));
            }
            s.push(')');
        }
        s.push('.');
        s
    }
}

#[cfg(test)]
mod tests {
    /// The gate summary counts members that kept trained weights (epoch > 0) and names the
    /// regions left at the baseline.
    #[test]
    fn gate_summary_counts_kept_members() {
        let rec = |epochs: &[usize]| crate::fit::FitRecord {
            best_epochs: epochs.to_vec(),
            ..Default::default()
        };
        let (a, b, c) = (rec(&[3, 5]), rec(&[0, 2]), rec(&[0, 0]));
        let g = GateSummary::of([("a", &a), ("b", &b), ("c", &c)]);
        assert_eq!(
            (g.all, g.some, g.none.clone()),
            (1, 1, vec!["c".to_string()])
        );
        let s = g.sentence();
        assert!(
            s.contains("all members in 1 of 3") && s.contains(": c)"),
            "{s}"
        );
    }

    use super::*;
    use crate::grid::tests::cube;

    /// Overlapping regions average; cells of no region are NaN.
    #[test]
    fn overlapping_regions_are_averaged_and_the_rest_is_fill() {
        let c = cube(2, 2, Period::month(2015, 1), 24, |_, _| 10.0);
        let region = |id: &str, cells: Vec<usize>| Region {
            id: id.into(),
            cells,
        };
        let regions = vec![region("a", vec![0, 1]), region("b", vec![1, 2])];
        let values = vec![
            RegionForecast {
                id: "a".into(),
                cells: vec![0, 1],
                values: vec![1.0, 2.0, 3.0, 4.0],
                members: Vec::new(),
            },
            RegionForecast {
                id: "b".into(),
                cells: vec![1, 2],
                values: vec![6.0, 8.0, 10.0, 12.0],
                members: Vec::new(),
            },
        ];
        let fc = assemble(&c, Period::month(2017, 1), 2, &regions, &values);
        assert_eq!(fc.lead(0)[..3], [1.0, 4.0, 8.0]);
        assert_eq!(fc.lead(1)[..3], [3.0, 7.0, 12.0]);
        assert!(fc.lead(0)[3].is_nan() && fc.lead(1)[3].is_nan());
        assert_eq!(fc.regions, regions);
        assert_eq!(fc.mean_over_leads()[1], 5.5);
    }
}
