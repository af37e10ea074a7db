//! Verification over many forecast starts (a hindcast): [`verify_starts`] -> [`HindcastReport`].
//!
//! **Definition of every score**: for each start, lead and region, the area-weighted (cos
//! latitude) score of that start's map (RMSE, MAE, bias, ACC as in [`super::score`]); the
//! report gives the **mean over starts** of these per-start scores (ACC: over the starts where
//! it is defined). The cells of a start and lead are those valid in the observation, the
//! climatology, the model's mean and every member, and every method's map: all methods are
//! scored on the same cells. The "mean" lead is the mean over leads of the per-lead values.
//!
//! For the model also:
//! - **CRPS** of the ensemble, per cell `mean_i |x_i - y| - 0.5 mean_ij |x_i - x_j|` (members
//!   `x`, observation `y`; a single member gives the absolute error), area-weighted, mean over
//!   starts;
//! - the **spread/error ratio**: the mean over starts of the ensemble spread (square root of
//!   the area-weighted mean of the members' variance, with 1/(M-1)) over the mean over starts
//!   of the RMSE of the ensemble mean; near 1 for a well-dispersed ensemble, below 1 for an
//!   over-confident one. None for a single member.
//!
//! For the model against each reference: the mean difference of RMSE (model minus reference;
//! negative = the model is better), per lead and averaged over leads, with a 95% interval from
//! a block bootstrap over start years ([`super::bootstrap`]); per region, a difference is
//! significant when its interval excludes 0, and the report counts the share of regions where
//! the model is significantly better (interval entirely below 0) or worse (above 0). The
//! global RMSE and ACC of every method also get bootstrap bands, for the figures.

use std::collections::HashMap;

use rayon::prelude::*;

use super::bootstrap::{draws, intervals, Blocks, Intervals};
pub use super::hindcast::{Band, Difference, HindcastRecord, HindcastReport, Significance};
use super::{score, Method, References, Scores};
use crate::grid::Cube;
use crate::region::Region;

/// Everything [`verify_starts`] reads.
#[derive(Debug, Clone, Copy)]
pub struct StartsInput<'a> {
    /// The observations, the cube the references were fitted on.
    pub cube: &'a Cube,
    /// The references: one fit for every start, or one per start (yearly refits); every
    /// start must lie at or after its references' training steps.
    pub references: &'a [&'a References],
    /// Step indices in `cube` of the starts (each start's first target), ascending.
    pub starts: &'a [usize],
    /// Leads per start.
    pub horizon: usize,
    /// The regions scored besides `global` (every cell of the grid).
    pub regions: &'a [Region],
    /// Area weight of each cell (cos latitude).
    pub weights: &'a [f64],
    /// The model's ensemble mean, `[start][lead][cell]` flattened.
    pub mean: &'a [f32],
    /// The members, each `[start][lead][cell]` flattened (one member is fine).
    pub members: &'a [Vec<f32>],
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BootstrapSettings {
    /// Replicates.
    pub replicates: usize,
    /// Seed of the draws.
    pub seed: u64,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        Self {
            replicates: 2000,
            seed: 42,
        }
    }
}

/// What one region gathers over the starts.
struct Acc {
    /// `[method]` per-year sums of RMSE and ACC, `[year][lead]` (for the bootstrap).
    rmse: Vec<Blocks>,
    acc: Vec<Blocks>,
    /// `[lead][method]` sums of MAE and bias.
    mae: Vec<f64>,
    bias: Vec<f64>,
    /// `[lead]` sums of the model's CRPS and spread, and cells.
    crps: Vec<f64>,
    spread: Vec<f64>,
    cells: Vec<usize>,
}

/// One region at one start and lead.
struct Step {
    scores: Vec<Scores>,
    crps: f64,
    spread: f64,
}

const NM: usize = Method::ALL.len();

/// Verifies the model's hindcast and every reference over `input.starts`.
///
/// # Panics
/// When `references` holds neither one fit nor one per start, a start lies inside its
/// references' training steps, or a forecast array does not have `starts x horizon x cells`
/// values.
pub fn verify_starts(input: &StartsInput, boot: BootstrapSettings) -> HindcastReport {
    let cube = input.cube;
    let (n, h, ns) = (cube.grid.ncells(), input.horizon, input.starts.len());
    assert!(input.references.len() == 1 || input.references.len() == ns);
    assert_eq!(
        input.mean.len(),
        ns * h * n,
        "mean: starts x horizon x cells"
    );
    assert!(input.members.iter().all(|m| m.len() == ns * h * n));
    let refs_of = |si: usize| input.references[si.min(input.references.len() - 1)];
    let year_of: Vec<i64> = input
        .starts
        .iter()
        .map(|&s| cube.period(s).year_month(cube.freq).0)
        .collect();
    let mut years = year_of.clone();
    years.sort_unstable();
    years.dedup();
    let block: Vec<usize> = year_of
        .iter()
        .map(|y| years.iter().position(|x| x == y).expect("listed"))
        .collect();
    let all: Vec<usize> = (0..n).collect();
    let mut groups: Vec<(&str, &[usize])> = vec![("global", &all)];
    groups.extend(input.regions.iter().map(|r| (r.id.as_str(), &r.cells[..])));
    let mut accs: Vec<Acc> = groups
        .iter()
        .map(|_| Acc {
            rmse: (0..NM).map(|_| Blocks::new(years.len(), h)).collect(),
            acc: (0..NM).map(|_| Blocks::new(years.len(), h)).collect(),
            mae: vec![0.0; h * NM],
            bias: vec![0.0; h * NM],
            crps: vec![0.0; h],
            spread: vec![0.0; h],
            cells: vec![0; h],
        })
        .collect();
    for (si, &start) in input.starts.iter().enumerate() {
        let refs = refs_of(si);
        for lead in 1..=h {
            let t = start + lead - 1;
            if t >= cube.len() {
                break;
            }
            let off = (si * h + lead - 1) * n;
            let model = &input.mean[off..off + n];
            let members: Vec<&[f32]> = input.members.iter().map(|m| &m[off..off + n]).collect();
            let obs = cube.step(t);
            let clim = refs.climatology(cube.period(t));
            let maps: Vec<Vec<f32>> = Method::ALL
                .iter()
                .map(|&m| match m {
                    Method::Model => model.to_vec(),
                    _ => refs
                        .forecast_from(cube, start, m, lead)
                        .expect("a start after its references' training steps"),
                })
                .collect();
            let per_cell = cell_terms(&maps, &members, obs, &clim);
            let steps: Vec<Option<Step>> = groups
                .par_iter()
                .map(|(_, cells)| group_step(cells, &maps, obs, &clim, input.weights, &per_cell))
                .collect();
            for (acc, step) in accs.iter_mut().zip(steps) {
                let Some(step) = step else { continue };
                let l = lead - 1;
                for (mi, s) in step.scores.iter().enumerate() {
                    acc.rmse[mi].add(block[si], l, s.rmse);
                    if let Some(a) = s.acc {
                        acc.acc[mi].add(block[si], l, a);
                    }
                    acc.mae[l * NM + mi] += s.mae;
                    acc.bias[l * NM + mi] += s.bias;
                }
                acc.crps[l] += step.crps;
                acc.spread[l] += step.spread;
                acc.cells[l] = acc.cells[l].max(step.scores[0].cells);
            }
        }
    }
    let replicates = draws(years.len(), boot.replicates, boot.seed);
    let mut report = HindcastReport {
        training: training_label(input.references),
        starts: input
            .starts
            .iter()
            .map(|&s| cube.period(s).label(cube.freq))
            .collect(),
        years,
        horizon: h,
        // Without members the mean was scored as the only one.
        members: input.members.len().max(1),
        bootstrap: boot,
        records: Vec::new(),
        differences: Vec::new(),
        significance: Vec::new(),
        bands: Vec::new(),
        index: HashMap::new(),
    };
    let parts: Vec<(Vec<HindcastRecord>, Vec<Difference>)> = groups
        .par_iter()
        .zip(&accs)
        .map(|((name, _), acc)| summarise(name, acc, h, input.members.len(), &replicates))
        .collect();
    for (records, differences) in parts {
        report.records.extend(records);
        report.differences.extend(differences);
    }
    report.bands = bands(&accs[0], h, &replicates);
    report.significance = significance(&report.differences, h);
    report.index = report
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.region.clone(), r.lead.clone(), r.method), i))
        .collect();
    report
}

/// Per cell: valid in everything; the members' CRPS and variance.
struct CellTerms {
    valid: Vec<bool>,
    crps: Vec<f64>,
    var: Vec<f64>,
}

fn cell_terms(maps: &[Vec<f32>], members: &[&[f32]], obs: &[f32], clim: &[f32]) -> CellTerms {
    let n = obs.len();
    // Without members the ensemble mean is the only member.
    let members: Vec<&[f32]> = if members.is_empty() {
        vec![&maps[0][..]]
    } else {
        members.to_vec()
    };
    let m = members.len() as f64;
    let mut t = CellTerms {
        valid: vec![false; n],
        crps: vec![0.0; n],
        var: vec![0.0; n],
    };
    let mut x = Vec::with_capacity(members.len());
    for c in 0..n {
        x.clear();
        x.extend(members.iter().map(|e| e[c] as f64));
        t.valid[c] = obs[c].is_finite()
            && clim[c].is_finite()
            && maps.iter().all(|map| map[c].is_finite())
            && x.iter().all(|v| v.is_finite());
        if !t.valid[c] {
            continue;
        }
        let y = obs[c] as f64;
        x.sort_by(f64::total_cmp);
        let abs: f64 = x.iter().map(|v| (v - y).abs()).sum::<f64>() / m;
        // 0.5 mean_ij |x_i - x_j| = sum_k (2k - M - 1) x_(k) / M^2, k = 1..M sorted.
        let pairs: f64 = x
            .iter()
            .enumerate()
            .map(|(k, v)| (2.0 * (k + 1) as f64 - m - 1.0) * v)
            .sum::<f64>()
            / (m * m);
        t.crps[c] = abs - pairs;
        if x.len() > 1 {
            let mean = x.iter().sum::<f64>() / m;
            t.var[c] = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
        }
    }
    t
}

fn group_step(
    cells: &[usize],
    maps: &[Vec<f32>],
    obs: &[f32],
    clim: &[f32],
    weights: &[f64],
    terms: &CellTerms,
) -> Option<Step> {
    let cells: Vec<usize> = cells.iter().copied().filter(|&c| terms.valid[c]).collect();
    let scores = maps
        .iter()
        .map(|map| score(map, obs, clim, weights, &cells))
        .collect::<Option<Vec<Scores>>>()?;
    let (mut w, mut crps, mut var) = (0.0, 0.0, 0.0);
    for &c in &cells {
        w += weights[c];
        crps += weights[c] * terms.crps[c];
        var += weights[c] * terms.var[c];
    }
    Some(Step {
        scores,
        crps: crps / w,
        spread: (var / w).sqrt(),
    })
}

/// The records and differences of one region.
fn summarise(
    name: &str,
    acc: &Acc,
    h: usize,
    members: usize,
    replicates: &[Vec<f64>],
) -> (Vec<HindcastRecord>, Vec<Difference>) {
    let ones = vec![1.0; acc.rmse[0].blocks()];
    let count = |l: usize| -> f64 {
        (0..acc.rmse[0].blocks())
            .map(|b| acc.rmse[0].counts[b * h + l])
            .sum()
    };
    let leads: Vec<usize> = (0..h).filter(|&l| count(l) > 0.0).collect();
    let mut records = Vec::new();
    for (mi, &method) in Method::ALL.iter().enumerate() {
        let (rmse, _) = acc.rmse[mi].means(&ones);
        let (accs, _) = acc.acc[mi].means(&ones);
        let model = method == Method::Model;
        let mut rows: Vec<HindcastRecord> = leads
            .iter()
            .map(|&l| {
                let n = count(l);
                let rmse = rmse[l].expect("scored lead");
                HindcastRecord {
                    region: name.to_string(),
                    lead: (l + 1).to_string(),
                    method,
                    rmse,
                    mae: acc.mae[l * NM + mi] / n,
                    bias: acc.bias[l * NM + mi] / n,
                    acc: accs[l],
                    crps: model.then(|| acc.crps[l] / n),
                    spread_error: (model && members > 1 && rmse > 0.0)
                        .then(|| acc.spread[l] / n / rmse),
                    starts: n as usize,
                    cells: acc.cells[l],
                }
            })
            .collect();
        if !rows.is_empty() {
            let avg = |f: &dyn Fn(&HindcastRecord) -> Option<f64>| {
                let v: Vec<f64> = rows.iter().filter_map(f).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let rmse = avg(&|r| Some(r.rmse)).expect("rows");
            let spread = avg(&|r| r.spread_error.map(|q| q * r.rmse));
            rows.push(HindcastRecord {
                region: name.to_string(),
                lead: "mean".into(),
                method,
                rmse,
                mae: avg(&|r| Some(r.mae)).expect("rows"),
                bias: avg(&|r| Some(r.bias)).expect("rows"),
                acc: avg(&|r| r.acc),
                crps: avg(&|r| r.crps),
                spread_error: spread.filter(|_| rmse > 0.0).map(|s| s / rmse),
                starts: rows.iter().map(|r| r.starts).max().unwrap_or(0),
                cells: rows.iter().map(|r| r.cells).max().unwrap_or(0),
            });
        }
        records.extend(rows);
    }
    let mut differences = Vec::new();
    if !leads.is_empty() {
        for reference in Method::REFERENCES {
            let ri = Method::ALL
                .iter()
                .position(|&m| m == reference)
                .expect("listed");
            let mut d = acc.rmse[0].clone();
            for (s, r) in d.sums.iter_mut().zip(&acc.rmse[ri].sums) {
                *s -= r;
            }
            let (per_lead, mean) = d.means(&ones);
            let iv: Intervals = intervals(&d, replicates);
            let row = |lead: String, mean: f64, i: Option<(f64, f64)>| Difference {
                region: name.to_string(),
                lead,
                reference,
                mean,
                low: i.map(|x| x.0),
                high: i.map(|x| x.1),
            };
            for &l in &leads {
                let m = per_lead[l].expect("scored lead");
                differences.push(row((l + 1).to_string(), m, iv.per_lead[l]));
            }
            differences.push(row("mean".into(), mean.expect("leads"), iv.mean));
        }
    }
    (records, differences)
}

/// Bootstrap bands of the global RMSE and ACC of every method.
fn bands(global: &Acc, h: usize, replicates: &[Vec<f64>]) -> Vec<Band> {
    let mut out = Vec::new();
    for (mi, &method) in Method::ALL.iter().enumerate() {
        for (metric, blocks) in [("rmse", &global.rmse[mi]), ("acc", &global.acc[mi])] {
            let iv = intervals(blocks, replicates);
            let labelled = iv
                .per_lead
                .iter()
                .enumerate()
                .map(|(l, i)| ((l + 1).to_string(), *i))
                .chain([("mean".to_string(), iv.mean)]);
            for (lead, i) in labelled.take(h + 1) {
                if let Some((low, high)) = i {
                    out.push(Band {
                        method,
                        metric,
                        lead,
                        low,
                        high,
                    });
                }
            }
        }
    }
    out
}

/// Shares of regions (not `global`) significantly better or worse, per reference and lead.
fn significance(differences: &[Difference], h: usize) -> Vec<Significance> {
    let mut out = Vec::new();
    let labels = (1..=h).map(|l| l.to_string()).chain(["mean".to_string()]);
    for lead in labels {
        for reference in Method::REFERENCES {
            let (mut n, mut better, mut worse) = (0usize, 0usize, 0usize);
            for d in differences
                .iter()
                .filter(|d| d.region != "global" && d.reference == reference && d.lead == lead)
            {
                if let (Some(lo), Some(hi)) = (d.low, d.high) {
                    n += 1;
                    better += usize::from(hi < 0.0);
                    worse += usize::from(lo > 0.0);
                }
            }
            if n > 0 {
                out.push(Significance {
                    reference,
                    lead: lead.clone(),
                    regions: n,
                    better: better as f64 / n as f64,
                    worse: worse as f64 / n as f64,
                });
            }
        }
    }
    out
}

/// The training periods of the references: one, or the first and last of yearly refits.
fn training_label(refs: &[&References]) -> String {
    let mut labels: Vec<String> = refs.iter().map(|r| r.training()).collect();
    labels.dedup();
    match labels.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} .. {last} ({} refits)", labels.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::tests::cube;
    use crate::time::Period;

    fn obs(t: usize, c: usize) -> f32 {
        12.0 + 4.0 * ((t % 12) as f32 * 0.5).sin() + c as f32 + 0.3 * ((t * 13 + c * 5) % 7) as f32
    }

    /// `[start][lead][cell]` of `obs` at the targets plus `err(start index, lead, cell)`.
    fn model(
        c: &Cube,
        starts: &[usize],
        h: usize,
        err: impl Fn(usize, usize, usize) -> f32,
    ) -> Vec<f32> {
        let n = c.grid.ncells();
        let mut v = Vec::new();
        for (si, &s) in starts.iter().enumerate() {
            for l in 0..h {
                for k in 0..n {
                    v.push(c.step(s + l)[k] + err(si, l, k));
                }
            }
        }
        v
    }

    /// Two starts (January and April), two leads, two cells of equal weight: every score by
    /// hand.
    #[test]
    fn scores_by_hand_on_a_tiny_example() {
        let c = cube(1, 2, Period::month(2000, 1), 30, obs);
        let refs = References::fit(&c, 24, 2);
        let starts = [24usize, 27];
        let errs = [[[1.0, -3.0], [0.0, 0.0]], [[2.0, 2.0], [-1.0, 1.0]]];
        let mean = model(&c, &starts, 2, |s, l, k| errs[s][l][k]);
        let members = vec![
            mean.iter().map(|v| v - 1.0).collect::<Vec<f32>>(),
            mean.iter().map(|v| v + 1.0).collect(),
        ];
        let r = verify_starts(
            &StartsInput {
                cube: &c,
                references: &[&refs],
                starts: &starts,
                horizon: 2,
                regions: &[],
                weights: &c.grid.area_weights(),
                mean: &mean,
                members: &members,
            },
            BootstrapSettings::default(),
        );
        let m = |lead: &str| r.get("global", lead, Method::Model).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
        let lead1 = (5f64.sqrt() + 2.0) / 2.0;
        assert!(close(m("1").rmse, lead1), "{}", m("1").rmse);
        assert!(close(m("2").rmse, 0.5));
        assert!(close(m("mean").rmse, (lead1 + 0.5) / 2.0));
        assert!(close(m("1").mae, 2.0) && close(m("1").bias, 0.5));
        assert_eq!((m("1").starts, m("1").cells), (2, 2));
        // Members at -1 and +1: CRPS per cell (|e-1| + |e+1|)/2 - 1/2.
        assert!(close(m("1").crps.unwrap(), 1.5), "{:?}", m("1").crps);
        assert!(close(m("1").spread_error.unwrap(), 2f64.sqrt() / lead1));
        // Every reference scored on the same cells; the climatology row by its definition.
        let clim_rmse: f64 = starts
            .iter()
            .map(|&s| {
                let f = refs.forecast_from(&c, s, Method::Climatology, 1).unwrap();
                let w = c.grid.area_weights();
                let cl = refs.climatology(c.period(s));
                score(&f, c.step(s), &cl, &w, &[0, 1]).unwrap().rmse
            })
            .sum::<f64>()
            / 2.0;
        let clim = r.get("global", "1", Method::Climatology).unwrap();
        assert!(close(clim.rmse, clim_rmse));
        assert_eq!(clim.crps, None);
        // The difference is model minus reference. Both starts are in 2002: the bootstrap
        // resamples whole years, so every replicate holds both starts and the interval has
        // zero width (resampling single starts would not).
        let d = r.difference("global", "1", Method::Climatology).unwrap();
        assert!(close(d.mean, m("1").rmse - clim.rmse));
        assert_eq!(d.low, d.high);
        assert_eq!(r.years, vec![2002]);
        assert_eq!(r.starts, vec!["2002-01", "2002-04"]);
    }

    #[test]
    fn a_perfect_model_has_zero_crps_and_error() {
        let c = cube(1, 2, Period::month(2000, 1), 40, obs);
        let refs = References::fit(&c, 24, 3);
        let starts = [24usize, 30, 36];
        let mean = model(&c, &starts, 3, |_, _, _| 0.0);
        let r = verify_starts(
            &StartsInput {
                cube: &c,
                references: &[&refs],
                starts: &starts,
                horizon: 3,
                regions: &[],
                weights: &c.grid.area_weights(),
                mean: &mean,
                members: &[mean.clone(), mean.clone()],
            },
            BootstrapSettings::default(),
        );
        let m = r.get("global", "mean", Method::Model).unwrap();
        assert!(m.crps.unwrap().abs() < 1e-9 && m.rmse.abs() < 1e-9);
        assert_eq!(m.spread_error, None, "no error: no ratio");
        // The last start runs past the cube: lead 3 of start 36 (step 38) is scored, and the
        // lead counts only starts with an observation.
        assert_eq!(r.get("global", "3", Method::Model).unwrap().starts, 3);
    }

    /// Six years of quarterly starts, two regions: intervals hold their means, the shares are
    /// shares, and the outputs are complete.
    #[test]
    fn intervals_shares_and_outputs() {
        let c = cube(2, 2, Period::month(2000, 1), 24 + 72 + 3, obs);
        let refs = References::fit(&c, 24, 3);
        let starts: Vec<usize> = (24..96).step_by(3).collect();
        let mean = model(&c, &starts, 3, |s, l, k| {
            ((s * 7 + l * 3 + k) % 5) as f32 * 0.2 - 0.3
        });
        let regions = [
            Region {
                id: "north".into(),
                cells: vec![0, 1],
            },
            Region {
                id: "south".into(),
                cells: vec![2, 3],
            },
        ];
        let refits: Vec<&References> = vec![&refs; starts.len()];
        let r = verify_starts(
            &StartsInput {
                cube: &c,
                references: &refits,
                starts: &starts,
                horizon: 3,
                regions: &regions,
                weights: &c.grid.area_weights(),
                mean: &mean,
                members: std::slice::from_ref(&mean),
            },
            BootstrapSettings {
                replicates: 500,
                seed: 3,
            },
        );
        assert_eq!(r.years.len(), 6);
        assert_eq!(r.regions(), vec!["north", "south"]);
        for d in &r.differences {
            let (lo, hi) = (d.low.unwrap(), d.high.unwrap());
            assert!(lo <= d.mean + 1e-12 && d.mean <= hi + 1e-12, "{d:?}");
        }
        for s in &r.significance {
            assert_eq!(s.regions, 2);
            assert!((0.0..=1.0).contains(&s.better) && s.better + s.worse <= 1.0);
        }
        // One member: CRPS = MAE, no spread.
        let m = r.get("north", "2", Method::Model).unwrap();
        assert!((m.crps.unwrap() - m.mae).abs() < 1e-9);
        assert_eq!(m.spread_error, None);
        assert!(r
            .bands
            .iter()
            .any(|b| b.method == Method::Lim && b.metric == "rmse" && b.lead == "mean"));
        assert!(r.best_reference("south").is_some());
        let md = r.to_markdown();
        assert!(
            md.contains("| mean |") && md.contains("| seas. damped |"),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["records"].as_array().unwrap().len(), 3 * 7 * 4);
    }
}
