//! The `sstcast` binary: parse flags, set up logging, run, map errors to exit codes.
//! All the work is in the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use sstcast::cli::{exit, exit_code, Cli, Command, LogFormat, Purpose};

// mimalloc: the many small tensors of region fits are allocation-heavy; glibc malloc was
// measured several times slower under load (see ../shared/docs/burn-notes.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    init_logging(cli.log_format);
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    // SIGTERM/SIGINT/SIGUSR1: finish the regions in flight, save, exit 75 (resumable).
    if let Err(e) = sstcast::ops::signal::install() {
        tracing::warn!("cannot install signal handlers ({e}): a signal will end the run at once");
    }
    match cli.command {
        Command::Forecast(args) => forecast(
            args,
            command_line,
            Purpose::Forecast,
            sstcast::pipeline::run,
        ),
        Command::Skill(args) => {
            forecast(args, command_line, Purpose::Whole, sstcast::pipeline::skill)
        }
        Command::Merge(args) => {
            forecast(args, command_line, Purpose::Whole, sstcast::pipeline::merge)
        }
        Command::Hindcast(args) => hindcast(args, command_line),
    }
}

fn hindcast(args: sstcast::cli::HindcastArgs, command_line: String) -> ExitCode {
    let (rc, spec) = match args.into_run_config(command_line) {
        Ok(x) => x,
        Err(e) => return fail(&sstcast::pipeline::PipelineError::Config(e)),
    };
    let progress = Progress::new();
    let result = sstcast::pipeline::hindcast::hindcast(&rc, &spec, &|r| progress.region_done(r));
    progress.finish();
    match result {
        Ok(summary) => {
            for f in &summary.files {
                tracing::info!("wrote {}", f.display());
            }
            if !summary.table.is_empty() {
                let _ = writeln!(std::io::stdout(), "{}", summary.table);
            }
            tracing::info!(
                "done: {} start(s), {} fit(s), in {:.1} s -> {}",
                summary.starts,
                summary.fits,
                summary.seconds,
                summary.out_dir.display()
            );
            ExitCode::from(exit::OK)
        }
        Err(e) => fail(&e),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SSTCAST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A closed stderr (a log pipe whose reader went away) must not end the run: by default
    // tracing-subscriber reports a failed write with `eprintln!`, which panics (exit 101).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_target(false);
    match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

type Runner = fn(
    &sstcast::pipeline::RunConfig,
    sstcast::pipeline::Progress<'_>,
) -> Result<sstcast::pipeline::RunSummary, sstcast::pipeline::PipelineError>;

fn forecast(
    args: sstcast::cli::ForecastArgs,
    command_line: String,
    purpose: Purpose,
    runner: Runner,
) -> ExitCode {
    let rc = match args.into_run_config(command_line, purpose) {
        Ok(rc) => rc,
        Err(e) => return fail(&sstcast::pipeline::PipelineError::Config(e)),
    };
    let progress = Progress::new();
    let result = runner(&rc, &|r| progress.region_done(r));
    progress.finish();
    match result {
        Ok(summary) if summary.shard.is_some() => {
            tracing::info!(
                "done: shard {} ({} regions) in {:.1} s; final outputs are written by `sstcast merge`",
                summary.shard.map(|s| s.to_string()).unwrap_or_default(),
                summary.regions,
                summary.seconds
            );
            ExitCode::from(exit::OK)
        }
        Ok(summary) => {
            for f in &summary.files {
                tracing::info!("wrote {}", f.display());
            }
            if let Some(skill) = &summary.skill {
                // A reader that went away (`| head`) is not an error of the run.
                let _ = writeln!(
                    std::io::stdout(),
                    "Skill of the {} forecast:\n\n{}",
                    rc.year,
                    skill.to_markdown()
                );
            } else {
                tracing::info!(
                    "no observations of {} in the input: nothing to verify",
                    rc.year
                );
            }
            tracing::info!(
                "done: {} regions in {:.1} s -> {}",
                summary.regions,
                summary.seconds,
                summary.out_dir.display()
            );
            ExitCode::from(exit::OK)
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &sstcast::pipeline::PipelineError) -> ExitCode {
    let code = exit_code(e);
    let mut msg = format!("error: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let s_text = s.to_string();
        if !msg.contains(&s_text) {
            msg.push_str(&format!("\n  caused by: {s_text}"));
        }
        src = s.source();
    }
    eprintln!("{msg}");
    exit_now(code)
}

/// Ends the process with `code` without running the C libraries' `atexit` handlers.
///
/// After a failed write, HDF5 (under libnetcdf) can keep a half-closed file in its tables,
/// and its `atexit` teardown then dereferences it and crashes with SIGSEGV, so a cron job
/// would see signal 11 instead of the documented exit code (seen with a full disk). Every
/// Rust destructor of the run has already run when we get here (temporary and staged files
/// are removed, earlier outputs untouched), so nothing is lost by skipping that teardown;
/// stdout and stderr are flushed first.
fn exit_now(code: u8) -> ExitCode {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    extern "C" {
        fn _exit(status: std::ffi::c_int) -> !;
    }
    // SAFETY: `_exit` is async-signal-safe and takes any int; it does not return.
    unsafe { _exit(std::ffi::c_int::from(code)) }
}

/// A progress bar when stderr is a terminal, one log line per region otherwise (cron logs).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} regions fitted ({elapsed}) {msg}",
                )
                .expect("static template"),
            );
            b
        });
        Self { bar }
    }

    fn region_done(&self, fit: &sstcast::fit::RegionFit) {
        let r = &fit.forecast;
        let loss = fit.record.losses.last().copied().unwrap_or(f32::NAN);
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.set_message(format!("last: {} (loss {loss:.3})", r.id));
            }
            None => {
                let rec = &fit.record;
                let kept = rec.kept_members();
                let val = match (
                    rec.val_losses.first(),
                    rec.val_losses.iter().copied().reduce(f32::min),
                ) {
                    (Some(&base), Some(best)) => format!(
                        "; validation loss {base:.4} untrained, {best:.4} best ({:+.1}%)",
                        100.0 * (best / base - 1.0)
                    ),
                    _ => String::new(),
                };
                tracing::info!(
                    "fitted {} ({} cells, final training loss {loss:.4}{val}; trained weights kept by {kept} of {} members)",
                    r.id,
                    r.cells.len(),
                    rec.best_epochs.len()
                )
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
