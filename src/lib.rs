//! sstcast: batch sea-surface-temperature forecasting.
//!
//! The crate is organised by pipeline stage; data flow one way through them:
//!
//! ```text
//! io::netcdf (read) -> grid::Cube -> region -> dataset -> train/model -> forecast
//!     -> io::netcdf (write), io::geotiff, render -> verify
//! ```
//!
//! - [`time`]: CF calendars and time units, reduced to integer periods.
//! - [`grid`]: the canonical in-memory SST cube (north-to-south, -180..180, degC).
//! - [`io`]: CF NetCDF reader and writer, GeoTIFF writer, atomic file writes.
//! - [`region`]: tiles and named boxes: the units that get one model each.
//! - [`gaps`]: short gaps in the training record interpolated, long ones masked.
//! - [`dataset`]: normalisation and training windows (training period only).
//! - [`model`]: the burn seq2seq GRU/LSTM encoder-decoder.
//! - [`train`]: fitting one region.
//! - [`forecast`]: all regions in parallel, autoregressive decoding, assembly on the grid.
//! - [`render`]: drawing maps and line charts; [`figures`]: which figures a run makes.
//! - [`verify`]: skill against climatology and persistence.
//! - [`pipeline`]: configuration and the end-to-end run; [`cli`]: flags and exit codes.
//! - Operations: [`checkpoint`] (saved region results: resumable runs), [`shard`] (Slurm
//!   job arrays), [`ops`] (output lock, stop signals), [`device`] (`--device`).
//! - [`bench`]: one training step in isolation, for `make bench` (`sstcast-bench`).

pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod dataset;
pub mod device;
pub mod figures;
pub mod forecast;
pub mod gaps;
pub mod grid;
pub mod io;
pub mod model;
pub mod ops;
pub mod pipeline;
pub mod region;
pub mod render;
pub mod shard;
pub mod time;
pub mod train;
pub mod verify;
