//! Command-line interface: every flag is parsed here, validated into a [`RunConfig`], and
//! passed down. Nothing below this module reads arguments or the environment.
//!
//! ```text
//! sstcast forecast --config pipelines/ersst-monthly.yaml --year 2018 [--input GLOB]...
//!                  [--variable NAME] [--out DIR] [--threads N] [--seed N]
//!                  [--force] [--shard I/N] [--device cpu|cuda:N]
//! sstcast skill    (same flags): verify an existing forecast against newer observations
//! sstcast merge    (same flags): assemble the region results of all shards into the outputs
//! sstcast hindcast --config F --train-end YYYY-MM --starts YYYY-MM..YYYY-MM [--every N]
//!                  [--refit once|yearly] (and the flags above but --year and --shard)
//! ```
//!
//! Environment read here: `SLURM_ARRAY_TASK_ID/COUNT/MIN/STEP` (default `--shard` inside a
//! Slurm job array) and the test hook `SSTCAST_STOP_AFTER=N` (the run sends itself SIGTERM
//! after N regions are fitted and saved, so tests interrupt a run at a deterministic point).
//!
//! Exit codes follow sysexits(3) so that cron wrappers and schedulers can tell a bad
//! configuration (78) from missing input (66), bad data (65) or an unwritable output (73).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error_class::ErrorClass;
use crate::ops::shard::Shard;
use crate::pipeline::config::Files;
use crate::pipeline::hindcast::{HindcastSpec, Refit};
use crate::pipeline::{ConfigError, PipelineConfig, PipelineError, RunConfig};
use crate::time::{Frequency, Period};
use crate::train::DeviceChoice;

/// Exit codes (sysexits.h), listed in `--help` and the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Command-line usage error.
    pub const USAGE: u8 = 64;
    /// Input data are malformed (bad units, gaps, wrong dimensions...).
    pub const DATAERR: u8 = 65;
    /// An input file is missing or no file matches.
    pub const NOINPUT: u8 = 66;
    /// Internal error (a bug).
    pub const SOFTWARE: u8 = 70;
    /// An output cannot be created.
    pub const CANTCREAT: u8 = 73;
    /// I/O error while reading or writing.
    pub const IOERR: u8 = 74;
    /// Temporary failure (lock held, interrupted): retry later.
    pub const TEMPFAIL: u8 = 75;
    /// Bad configuration file or value.
    pub const CONFIG: u8 = 78;
}

const EXIT_HELP: &str = "\
Exit codes (sysexits):
  0   success
  64  command-line usage error
  65  bad input data (units, dimensions, gaps, duplicated months, all missing, too short)
  66  input file missing, or no file matches the pattern; `merge`: a region (shard) has
      no saved result
  70  internal error (please report)
  73  cannot create an output file or directory
  74  I/O error while reading or writing
  75  temporary failure, retry later: the output directory is locked by another run
      (the message names its pid, host and start time), or the run was interrupted by
      SIGTERM/SIGINT/SIGUSR1 (fitted regions are saved: the next run continues)
  78  bad pipeline configuration (syntax, unknown key, wrong type, bad value)";

/// Sea-surface-temperature forecasting: one seq2seq recurrent forecaster per ocean region.
#[derive(Debug, Parser)]
#[command(name = "sstcast", version, about, after_help = EXIT_HELP)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit every region on data before YEAR and forecast YEAR; write NetCDF, GeoTIFF and PNG.
    #[command(after_help = EXIT_HELP)]
    Forecast(ForecastArgs),
    /// Verify the forecast of YEAR against the observations now in the input (skill tables
    /// and figures); runs the forecast first if it does not exist yet.
    #[command(after_help = EXIT_HELP)]
    Skill(ForecastArgs),
    /// Assemble the region results saved by the shards of a Slurm array (`forecast --shard`)
    /// into the final outputs of a single-node run; fails (66) naming missing shards.
    #[command(after_help = EXIT_HELP)]
    Merge(ForecastArgs),
    /// Fit on data up to --train-end, forecast from every start of --starts (each from the
    /// data before it), and verify them together: tables with bootstrap intervals, figures,
    /// `hindcast.nc`.
    #[command(after_help = EXIT_HELP)]
    Hindcast(HindcastArgs),
}

/// Arguments of `sstcast hindcast`.
#[derive(Debug, clap::Args)]
pub struct HindcastArgs {
    /// Last month of training data (YYYY-MM; YYYY means YYYY-12).
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_train_end)]
    pub train_end: Period,
    /// First and last start (YYYY-MM..YYYY-MM; YYYY means January).
    #[arg(long, value_name = "A..B", value_parser = parse_starts)]
    pub starts: (Period, Period),
    /// Months between starts.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Refit the models (and references) before each year's first start on all data
    /// before it, or fit once on the data up to --train-end.
    #[arg(long, value_enum, default_value_t = RefitArg::Once)]
    pub refit: RefitArg,
    /// The pipeline and its overrides.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `--refit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RefitArg {
    /// Fit once, on the data up to --train-end.
    Once,
    /// Refit before each year's first start.
    Yearly,
}

/// `YYYY-MM` or `YYYY` (`default_month` then) as a monthly period.
fn parse_month(s: &str, default_month: u32) -> Result<Period, String> {
    let bad = || format!("{s:?} is not a month (YYYY-MM) or a year (YYYY)");
    let (y, m) = match s.trim().split_once('-') {
        Some((y, m)) => (y, m.parse::<u32>().map_err(|_| bad())?),
        None => (s.trim(), default_month),
    };
    let y: i64 = y.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(1..=9999).contains(&y) {
        return Err(bad());
    }
    Ok(Period::month(y, m))
}

fn parse_train_end(s: &str) -> Result<Period, String> {
    parse_month(s, 12)
}

fn parse_starts(s: &str) -> Result<(Period, Period), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s:?} is not a range of starts (YYYY-MM..YYYY-MM)"))?;
    Ok((parse_month(a, 1)?, parse_month(b, 1)?))
}

impl HindcastArgs {
    /// Loads the pipeline, applies the overrides and validates the request.
    pub fn into_run_config(
        self,
        command_line: String,
    ) -> Result<(RunConfig, HindcastSpec), ConfigError> {
        let spec = HindcastSpec {
            train_end: self.train_end,
            first: self.starts.0,
            last: self.starts.1,
            every: self.every,
            refit: match self.refit {
                RefitArg::Once => Refit::Once,
                RefitArg::Yearly => Refit::Yearly,
            },
        };
        let config = self.run.config.clone();
        let args = ForecastArgs {
            year: self.train_end.year_month(Frequency::Monthly).0 + 1,
            shard: None,
            run: self.run,
        };
        let rc = args.into_run_config(command_line, Purpose::Whole)?;
        spec.check(rc.pipeline.temporal)
            .map_err(|(key, message)| ConfigError::Invalid {
                path: config,
                key: key.into(),
                message,
            })?;
        Ok((rc, spec))
    }
}

/// The flags every command that runs a pipeline takes.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Pipeline configuration (YAML).
    #[arg(long, default_value = "pipelines/ersst-monthly.yaml")]
    pub config: PathBuf,
    /// Input file, directory or glob, overriding `input.files` (repeatable).
    #[arg(long = "input", value_name = "PATH_OR_GLOB")]
    pub inputs: Vec<String>,
    /// SST variable name, overriding `input.variable`.
    #[arg(long)]
    pub variable: Option<String>,
    /// Output root directory, overriding `outputs.dir` (files go to DIR/<pipeline>/...).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Regions fitted in parallel (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Random seed, overriding `model.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Refit every region, ignoring results saved by earlier runs.
    #[arg(long)]
    pub force: bool,
    /// Device for the fits: cpu, or cuda:N with a `--features tch` build.
    #[arg(long, default_value = "cpu", value_parser = DeviceChoice::parse)]
    pub device: DeviceChoice,
}

/// Arguments of `sstcast forecast`, `skill` and `merge`.
#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// Target year: reference time YEAR-01-01, training on data before it.
    #[arg(long)]
    pub year: i64,
    /// Fit only shard I of N (regions whose id hash is I mod N), save them, write no final
    /// outputs; default inside a Slurm job array: from SLURM_ARRAY_TASK_ID/_COUNT.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// The pipeline and its overrides.
    #[command(flatten)]
    pub run: RunArgs,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    Shard::parse(s).map_err(|e| e.to_string())
}

/// Which command the arguments are for (the shard applies to `forecast` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `forecast`: `--shard` or the Slurm array variables select a shard.
    Forecast,
    /// `skill` and `merge`: whole runs; `--shard` is refused and Slurm variables ignored.
    Whole,
}

impl ForecastArgs {
    /// Loads the pipeline, applies the overrides and validates the result.
    pub fn into_run_config(
        self,
        command_line: String,
        purpose: Purpose,
    ) -> Result<RunConfig, ConfigError> {
        // Read once: the text written into the outputs is the text parsed here.
        let (config_text, mut pipeline) = PipelineConfig::read(&self.run.config)?;
        if !self.run.inputs.is_empty() {
            pipeline.input.files = Files::Many(self.run.inputs);
        }
        if let Some(v) = self.run.variable {
            pipeline.input.variable = Some(v);
        }
        if let Some(dir) = self.run.out {
            pipeline.outputs.dir = dir;
        }
        if let Some(seed) = self.run.seed {
            pipeline.model.seed = seed;
        }
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            path: self.run.config.clone(),
            key: key.into(),
            message: message.into(),
        };
        let threads = match self.run.threads {
            Some(0) => return Err(invalid("--threads", "must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if !(1..=9999).contains(&self.year) {
            return Err(invalid("--year", "must be a year between 1 and 9999"));
        }
        let shard = match (purpose, self.shard) {
            (Purpose::Whole, Some(_)) => {
                return Err(invalid(
                    "--shard",
                    "applies to `sstcast forecast` only (merge and skill use every region)",
                ))
            }
            (Purpose::Whole, None) => None,
            (Purpose::Forecast, Some(s)) => Some(s),
            (Purpose::Forecast, None) => Shard::from_slurm(|k| std::env::var(k).ok())
                .map_err(|e| invalid("SLURM_ARRAY_TASK_ID", &e.to_string()))?,
        };
        let stop_after = match std::env::var("SSTCAST_STOP_AFTER") {
            Ok(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| invalid("SSTCAST_STOP_AFTER", "must be a number of regions"))?,
            ),
            Err(_) => None,
        };
        pipeline.validate(&self.run.config)?;
        Ok(RunConfig {
            pipeline,
            config_path: self.run.config,
            config_text,
            year: self.year,
            threads,
            command_line,
            force: self.run.force,
            shard,
            device: self.run.device,
            stop_after,
        })
    }
}

/// The exit code of an error class, per the table in `--help`. The only place exit codes
/// are decided: every error says its class ([`PipelineError::class`]).
pub fn exit_code_of(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::Config => exit::CONFIG,
        ErrorClass::NoInput => exit::NOINPUT,
        ErrorClass::Data => exit::DATAERR,
        ErrorClass::CannotCreate => exit::CANTCREAT,
        ErrorClass::Io => exit::IOERR,
        ErrorClass::TempFail => exit::TEMPFAIL,
        ErrorClass::Internal => exit::SOFTWARE,
    }
}

/// The exit code for an error.
pub fn exit_code(e: &PipelineError) -> u8 {
    exit_code_of(e.class())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_ranges_parse() {
        assert_eq!(parse_train_end("1999-12"), Ok(Period::month(1999, 12)));
        assert_eq!(parse_train_end("1999"), Ok(Period::month(1999, 12)));
        assert_eq!(
            parse_starts("2000-01..2013-10"),
            Ok((Period::month(2000, 1), Period::month(2013, 10)))
        );
        assert_eq!(
            parse_starts("1995..2010"),
            Ok((Period::month(1995, 1), Period::month(2010, 1)))
        );
        assert!(parse_train_end("1999-13").is_err());
        assert!(parse_starts("2000-01").is_err());
        assert!(parse_starts("x..2001-01").is_err());
    }

    /// Every class has its own exit code, and the documented ones are the sysexits values.
    #[test]
    fn each_class_has_its_own_exit_code() {
        let classes = [
            ErrorClass::Config,
            ErrorClass::NoInput,
            ErrorClass::Data,
            ErrorClass::CannotCreate,
            ErrorClass::Io,
            ErrorClass::TempFail,
            ErrorClass::Internal,
        ];
        let mut codes: Vec<u8> = classes.iter().map(|&c| exit_code_of(c)).collect();
        assert_eq!(codes, [78, 66, 65, 73, 74, 75, 70]);
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), classes.len());
        for code in codes {
            assert!(
                EXIT_HELP.contains(&format!("  {code}  ")),
                "{code} not in --help"
            );
        }
    }
}
