//! CF NetCDF: the reader for SST inputs and the writers for forecast and hindcast grids.
//!
//! Both halves share one error type, [`NetcdfError`], whose variants always name the file
//! (and the variable or attribute where there is one), because the person who reads the
//! message is usually looking at a cron log, not at the code.

mod read;
mod write;
mod write_hindcast;

pub use read::{read_cube, PLAUSIBLE_ANOMALY, PLAUSIBLE_SST};
pub use write::{read_forecast, write_forecast, ForecastFile, StoredForecast};
pub use write_hindcast::{write_hindcast, HindcastFile};

use std::path::PathBuf;

use crate::time::TimeError;

/// Everything that can go wrong reading or writing NetCDF.
#[derive(Debug, thiserror::Error)]
pub enum NetcdfError {
    /// The file does not exist.
    #[error("input file {path} does not exist")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but is not readable NetCDF (truncated, HDF5 damage, another format).
    #[error("cannot open {path} as NetCDF: {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// libnetcdf's message.
        message: String,
    },
    /// A libnetcdf call failed after opening.
    #[error("{path}: reading {what}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Which variable or attribute.
        what: String,
        /// libnetcdf's message.
        message: String,
    },
    /// No variable could be identified as SST.
    #[error("{path}: no SST variable found (no variable has standard_name = \"sea_surface_temperature\" and none is called sst/tos/analysed_sst); name it with `variable:` in the pipeline or --variable")]
    NoSstVariable {
        /// The file.
        path: PathBuf,
    },
    /// Several variables could be SST.
    #[error("{path}: several candidate SST variables ({candidates}); choose one with `variable:` in the pipeline or --variable")]
    AmbiguousVariable {
        /// The file.
        path: PathBuf,
        /// Their names, comma-separated.
        candidates: String,
    },
    /// The named variable is not in the file.
    #[error("{path}: no variable named {variable:?} (variables: {available})")]
    NoSuchVariable {
        /// The file.
        path: PathBuf,
        /// The requested name.
        variable: String,
        /// What the file has.
        available: String,
    },
    /// The variable's dimensions are not time, latitude and longitude.
    #[error("{path}: variable {variable:?} has dimensions ({dims}): {message}")]
    Dimensions {
        /// The file.
        path: PathBuf,
        /// The variable.
        variable: String,
        /// Its dimension names.
        dims: String,
        /// What is wrong.
        message: String,
    },
    /// A coordinate is not strictly monotonic.
    #[error("{path}: coordinate {coordinate:?} is not strictly monotonic")]
    NotMonotonic {
        /// The file.
        path: PathBuf,
        /// The coordinate variable.
        coordinate: String,
    },
    /// The time coordinate cannot be decoded.
    #[error("{path}: time coordinate {coordinate:?}: {source}")]
    Time {
        /// The file.
        path: PathBuf,
        /// The coordinate variable.
        coordinate: String,
        /// Why.
        #[source]
        source: TimeError,
    },
    /// Temperature units that are neither Celsius nor Kelvin.
    #[error(
        "{path}: variable {variable:?} has units {units:?}; expected degC/Celsius or K/kelvin"
    )]
    Units {
        /// The file.
        path: PathBuf,
        /// The variable.
        variable: String,
        /// Its units attribute.
        units: String,
    },
    /// Two input files have different grids.
    #[error(
        "{path} has a different lat/lon grid from {first}: all input files must share one grid"
    )]
    GridMismatch {
        /// The first file read.
        first: PathBuf,
        /// The file that differs.
        path: PathBuf,
    },
    /// The same month appears twice.
    #[error("time step {period} appears twice: in {first} and in {second}")]
    DuplicateTime {
        /// `2015-03`.
        period: String,
        /// Where it was first seen.
        first: PathBuf,
        /// Where it was seen again.
        second: PathBuf,
    },
    /// A month is missing between two others.
    #[error("input has no data for {from}..{to} (between {before} and {after}); sstcast needs a gap-free monthly record")]
    Gap {
        /// First missing month.
        from: String,
        /// Last missing month.
        to: String,
        /// File holding the month before the gap.
        before: PathBuf,
        /// File holding the month after the gap.
        after: PathBuf,
    },
    /// The input is every value missing.
    #[error("variable {variable:?} in {path} holds no valid value (all fill, missing or out of valid range)")]
    AllMissing {
        /// The file (the first if several).
        path: PathBuf,
        /// The variable.
        variable: String,
    },
    /// Every valid value is outside the plausible SST range (wrong units, usually).
    #[error("variable {variable:?} in {path}: all {count} valid value(s) lie outside the plausible {what} range {lo}..{hi} degC after unit conversion (min {min}, max {max}); check its units attribute ({units:?})")]
    Implausible {
        /// The file (the first if several).
        path: PathBuf,
        /// The variable.
        variable: String,
        /// `SST` or `SST anomaly`.
        what: &'static str,
        /// Lower end of the plausible range, degC.
        lo: f32,
        /// Upper end of the plausible range, degC.
        hi: f32,
        /// How many values were masked.
        count: usize,
        /// The smallest implausible value, degC.
        min: f32,
        /// The largest implausible value, degC.
        max: f32,
        /// The units attribute as found.
        units: String,
    },
    /// Writing a NetCDF output failed.
    #[error("cannot write {path}: {message}")]
    Write {
        /// Final path of the output.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl NetcdfError {
    /// A missing file is a missing input (66), a failed write an output that cannot be created
    /// (73), a read failure I/O (74); everything else is a property of the data (65).
    pub fn class(&self) -> crate::error_class::ErrorClass {
        use crate::error_class::ErrorClass;
        match self {
            Self::Missing { .. } => ErrorClass::NoInput,
            Self::Write { .. } => ErrorClass::CannotCreate,
            Self::Read { .. } => ErrorClass::Io,
            _ => ErrorClass::Data,
        }
    }

    /// Whether this error is about missing input (as opposed to bad data).
    pub fn is_missing_input(&self) -> bool {
        matches!(self, Self::Missing { .. })
    }
}
