//! `sstcast hindcast`: many forecasts from the past, verified against what happened.
//!
//! One forecast a year says little: the difference between two methods over one start is
//! noise. A hindcast fits the models (and the references) once on the data up to
//! `--train-end`, then forecasts from every start of `--starts` (every `--every` months),
//! each start reading only the observed steps before it ([`crate::fit`]: one fit, many
//! starts), and verifies all of them together ([`crate::verify::starts`]): per lead, per
//! region, with intervals from a block bootstrap over start years.
//!
//! `--refit yearly` refits before each year's first start on all data before it (the first
//! year on the data up to `--train-end`), as an operational centre that retrains once a year
//! would; each refit is a fit of its own with its own saved results, so an interrupted
//! hindcast resumes where it stopped.
//!
//! Outputs go to `<outputs.dir>/<pipeline>/hindcast_<first>_<last>/`: `hindcast.nc`
//! (`sst(start, lead, lat, lon)` and the ensemble spread), `hindcast.md`, `hindcast.json`
//! and the figures ([`crate::figures`]).

use std::path::PathBuf;
use std::time::Instant;

use super::hindcast_outputs as outputs;
use super::session::Session;
use super::{fit_plan, key, PipelineError, Progress, RunConfig};
use crate::forecast::{self, Forecast};
use crate::time::{Frequency, Period};

/// How often the models are refitted during a hindcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refit {
    /// Once, on the data up to the training end.
    Once,
    /// Before each year's first start, on all data before it.
    Yearly,
}

/// What to hindcast: monthly periods, whatever the pipeline's temporal mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HindcastSpec {
    /// Last month of the training data.
    pub train_end: Period,
    /// First start.
    pub first: Period,
    /// Last start (included when on the `every` grid).
    pub last: Period,
    /// Months between starts.
    pub every: usize,
    /// Refits.
    pub refit: Refit,
}

impl HindcastSpec {
    /// The starts, monthly periods.
    pub fn starts(&self) -> Vec<Period> {
        let step = self.every.max(1) as i64;
        (0..)
            .map(|k| Period(self.first.0 + k * step))
            .take_while(|p| *p <= self.last)
            .collect()
    }

    /// Checks the spec against the pipeline's temporal mode; `key` names the flag at fault.
    pub fn check(&self, freq: Frequency) -> Result<(), (&'static str, String)> {
        if self.first <= self.train_end {
            return Err((
                "--starts",
                format!(
                    "the first start {} must follow --train-end {}",
                    self.first.label(Frequency::Monthly),
                    self.train_end.label(Frequency::Monthly)
                ),
            ));
        }
        if self.last < self.first {
            return Err(("--starts", "the last start precedes the first".into()));
        }
        if self.every == 0 {
            return Err(("--every", "must be at least 1 month".into()));
        }
        if freq == Frequency::Annual {
            let january = |p: Period| p.year_month(Frequency::Monthly).1 == 1;
            if !january(self.first)
                || !self.every.is_multiple_of(12)
                || !january(Period(self.train_end.0 + 1))
            {
                return Err((
                    "--starts",
                    "an annual pipeline starts forecasts in January: --train-end YYYY-12 (or \
                     YYYY), --starts YYYY-01..YYYY-01 and --every a multiple of 12"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// `<first>_<last>` for the output directory.
    pub fn label(&self) -> String {
        let starts = self.starts();
        let last = starts.last().copied().unwrap_or(self.first);
        format!(
            "{}_{}",
            self.first.label(Frequency::Monthly),
            last.label(Frequency::Monthly)
        )
    }
}

/// The output directory of a hindcast.
pub fn out_dir(rc: &RunConfig, spec: &HindcastSpec) -> PathBuf {
    let p = &rc.pipeline;
    p.outputs
        .dir
        .join(p.name())
        .join(format!("hindcast_{}", spec.label()))
}

/// What a finished hindcast produced.
#[derive(Debug)]
pub struct HindcastSummary {
    /// The output directory.
    pub out_dir: PathBuf,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Starts forecast.
    pub starts: usize,
    /// Fits (1, or one per year with `--refit yearly`).
    pub fits: usize,
    /// The verification table, Markdown (empty when no start has observations).
    pub table: String,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Runs a hindcast end to end.
pub fn hindcast(
    rc: &RunConfig,
    spec: &HindcastSpec,
    progress: Progress<'_>,
) -> Result<HindcastSummary, PipelineError> {
    let t0 = Instant::now();
    let dir = out_dir(rc, spec);
    let _lock = super::session::lock_dir(&dir, None)?;
    // Before fitting: an unwritable directory or a protected output fails now.
    let mut stage = outputs::prepare(&dir)?;
    let hc = run_fits(rc, spec, &dir, progress)?;
    let t_out = Instant::now();
    let verified = outputs::Verified::of(&hc);
    let table = outputs::write(rc, &mut stage, &dir, &hc, &verified)?;
    let files = stage.commit()?;
    tracing::info!(
        "hindcast verified and {} file(s) written in {:.1} s",
        files.len(),
        t_out.elapsed().as_secs_f64()
    );
    Ok(HindcastSummary {
        out_dir: dir,
        files,
        starts: hc.starts.len(),
        fits: hc.sessions.len(),
        table,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// One fit of a hindcast and the starts it serves.
#[derive(Debug, Clone)]
struct Group {
    /// First month after its training data.
    origin: Period,
    /// Its starts (monthly).
    starts: Vec<Period>,
}

fn groups(spec: &HindcastSpec) -> Vec<Group> {
    let starts = spec.starts();
    match spec.refit {
        Refit::Once => vec![Group {
            origin: Period(spec.train_end.0 + 1),
            starts,
        }],
        Refit::Yearly => {
            let mut out: Vec<Group> = Vec::new();
            for s in starts {
                let year = s.year_month(Frequency::Monthly).0;
                match out.last_mut() {
                    Some(g) if g.starts[0].year_month(Frequency::Monthly).0 == year => {
                        g.starts.push(s)
                    }
                    _ => out.push(Group {
                        origin: if out.is_empty() {
                            Period(spec.train_end.0 + 1)
                        } else {
                            s
                        },
                        starts: vec![s],
                    }),
                }
            }
            out
        }
    }
}

/// The forecasts of a hindcast, on the grid, one per start.
#[derive(Debug)]
pub struct Hindcast {
    /// Starts, in the pipeline's frequency.
    pub starts: Vec<Period>,
    /// The ensemble mean from each start.
    pub mean: Vec<Forecast>,
    /// Each member's forecasts from every start, `[start][lead][cell]` flattened (only the
    /// verification and the spread read them, so they are kept in that layout).
    pub members: Vec<Vec<f32>>,
    /// For each start, the index of the fit (group) that made it.
    pub fit_of_start: Vec<usize>,
    /// Each fit's session (its cube, training steps, regions).
    pub sessions: Vec<Session>,
    /// Each fit's validation gate: which regions forecast with trained weights.
    pub gates: Vec<crate::forecast::GateSummary>,
}

/// Fits and forecasts every start of `spec` (resuming from saved results).
pub fn run_fits(
    rc: &RunConfig,
    spec: &HindcastSpec,
    dir: &std::path::Path,
    progress: Progress<'_>,
) -> Result<Hindcast, PipelineError> {
    let mut out = Hindcast {
        starts: Vec::new(),
        mean: Vec::new(),
        members: Vec::new(),
        fit_of_start: Vec::new(),
        sessions: Vec::new(),
        gates: Vec::new(),
    };
    for (g, group) in groups(spec).into_iter().enumerate() {
        let t0 = Instant::now();
        let what = format!(
            "hindcast: training before {}, starts {}",
            group.origin.label(Frequency::Monthly),
            group
                .starts
                .iter()
                .map(|s| s.label(Frequency::Monthly))
                .collect::<Vec<_>>()
                .join(",")
        );
        let year = group.origin.year_month(Frequency::Monthly).0;
        let session = Session::open_at(rc, group.origin, dir.to_path_buf(), |files| {
            key::hindcast_key(&rc.pipeline, year, files, &what)
        })?;
        let freq = session.cube.freq;
        let starts: Vec<Period> = group
            .starts
            .iter()
            .map(|&s| match freq {
                Frequency::Monthly => s,
                Frequency::Annual => Period(s.year_month(Frequency::Monthly).0),
            })
            .collect();
        let mut plan = fit_plan(rc, &session);
        plan.starts = starts.clone();
        plan.keep_members = true;
        // `rc.shard` is always None here: a hindcast fits every region.
        let (fitted, _) = super::fit_saved(rc, &session, &plan, progress)?;
        tracing::info!(
            "fit {} of the hindcast: {} region(s) on {} training steps before {} ({} fitted, {} loaded) in {:.1} s; {} start(s)",
            g + 1,
            session.regions.len(),
            session.steps,
            session.origin.label(freq),
            fitted.fitted,
            fitted.loaded,
            t0.elapsed().as_secs_f64(),
            starts.len()
        );
        let gate = crate::forecast::GateSummary::of(
            fitted
                .regions
                .iter()
                .map(|r| (r.forecast.id.as_str(), &r.record)),
        );
        tracing::info!("{}", gate.sentence());
        out.gates.push(gate);
        let values: Vec<_> = fitted.regions.iter().map(|r| r.forecast.clone()).collect();
        let horizon = plan.settings.horizon;
        let cube = &session.cube;
        let regions = &session.regions;
        out.mean.extend(forecast::assemble_starts(
            cube, &starts, horizon, regions, &values, None,
        ));
        let members = values.first().map_or(0, |v| v.members.len());
        out.members.resize_with(members, Vec::new);
        for (k, m) in out.members.iter_mut().enumerate() {
            let fcs = forecast::assemble_starts(cube, &starts, horizon, regions, &values, Some(k));
            m.extend(fcs.iter().flat_map(|f| f.values.iter().copied()));
        }
        out.fit_of_start.extend(starts.iter().map(|_| g));
        out.starts.extend(starts);
        out.sessions.push(session);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(refit: Refit) -> HindcastSpec {
        HindcastSpec {
            train_end: Period::month(1999, 12),
            first: Period::month(2000, 1),
            last: Period::month(2001, 6),
            every: 3,
            refit,
        }
    }

    #[test]
    fn starts_and_yearly_groups() {
        let s = spec(Refit::Yearly);
        let starts = s.starts();
        assert_eq!(starts.len(), 6);
        assert_eq!(starts[5], Period::month(2001, 4));
        assert_eq!(s.label(), "2000-01_2001-04");
        let g = groups(&s);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].origin, Period::month(2000, 1));
        assert_eq!(g[0].starts.len(), 4);
        assert_eq!(g[1].origin, Period::month(2001, 1));
        assert_eq!(
            g[1].starts,
            vec![Period::month(2001, 1), Period::month(2001, 4)]
        );
        let once = groups(&spec(Refit::Once));
        assert_eq!(once.len(), 1);
        assert_eq!(once[0].starts, starts);
    }

    #[test]
    fn specs_are_checked() {
        let mut s = spec(Refit::Once);
        assert!(s.check(Frequency::Monthly).is_ok());
        assert!(
            s.check(Frequency::Annual).is_err(),
            "every 3 months in annual mode"
        );
        s.every = 12;
        assert!(s.check(Frequency::Annual).is_ok());
        s.first = Period::month(1999, 12);
        assert_eq!(s.check(Frequency::Monthly).unwrap_err().0, "--starts");
    }
}
