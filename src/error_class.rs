//! What kind of failure an error is: the one question the command line asks of every error.
//!
//! sstcast runs from cron and Slurm, where the exit code is all a wrapper sees: a bad pipeline
//! file must be told from a missing input, bad data, an unwritable output, a failing disk or
//! a temporary condition worth retrying. Every error type of the library answers through one
//! method, `class()`, each deciding for its own variants; `cli` maps classes to exit codes
//! (sysexits) and nothing else. A new variant therefore gets its class where it is defined,
//! instead of falling through a match on another layer's variants.

/// The class of a failure (mapped to an exit code by `cli`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The pipeline configuration or a flag value is wrong (syntax, unknown key, bad value).
    Config,
    /// An input (file, pattern, saved result that must exist) is missing.
    NoInput,
    /// An input exists but its data cannot be used (units, dimensions, gaps, too short).
    Data,
    /// An output file or directory cannot be created.
    CannotCreate,
    /// Reading or writing failed at the I/O level (a full disk, a read error).
    Io,
    /// A temporary condition: retry later (the outputs are locked, the run was interrupted).
    TempFail,
    /// A bug in sstcast.
    Internal,
}

impl ErrorClass {
    /// `Io` for a full disk or quota, else `otherwise`: the usual rule for a failed write.
    pub fn of_write(source: &std::io::Error, otherwise: ErrorClass) -> ErrorClass {
        match source.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => ErrorClass::Io,
            _ => otherwise,
        }
    }
}
