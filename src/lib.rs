//! sstcast: batch sea-surface-temperature forecasting.
//!
//! The crate is organised by pipeline stage, and data flow one way through them; a module
//! imports only modules below it. The layers, bottom to top (`tests/architecture.rs` holds
//! the same table and fails the build on an import against it or an import cycle):
//!
//! ```text
//! main, sstcast-bench                      the binaries
//! cli, bench                               flags -> validated run config, exit codes; bench harness
//! pipeline                                 config, run key, outputs, provenance, sessions
//! figures, ops, report                     which figures a run draws; lock, signals, checkpoints, shards; report.html
//! verify                                   skill against climatology, persistence, damped persistence
//! forecast                                 the assembled forecast on the grid
//! fit                                      all regions in parallel, ensembles
//! train                                    epoch loop, early stopping, optimisers, device choice
//! region, dataset, model                   cells -> regions; gaps, masks, normalisation; weights, forward, backward
//! io, render                               files in and out; drawing to PNG bytes
//! grid                                     the canonical in-memory SST cube
//! time, hash, sys, error_class             calendars; stable hash; host/pid; error classes
//! ```
//!
//! A run reads with [`io::netcdf`] into a [`grid::Cube`], repairs and cuts it
//! ([`dataset::gaps`], [`dataset::prep`]), builds the [`region`]s, fits them ([`fit`], each
//! with [`train`] on a [`model`]), assembles the [`forecast`], writes it ([`io`], [`render`]
//! through [`figures`]) and verifies it ([`verify`]), and puts it all on one page
//! ([`report`]: `report.html`); [`pipeline`] sequences this, [`ops`] makes it resumable and
//! shardable, [`cli`] turns flags into a run.

pub mod bench;
pub mod cli;
pub mod dataset;
pub mod error_class;
pub mod figures;
pub mod fit;
pub mod forecast;
pub mod grid;
pub mod hash;
pub mod io;
pub mod model;
pub mod ops;
pub mod pipeline;
pub mod region;
pub mod render;
pub mod report;
pub mod sys;
pub mod time;
pub mod train;
pub mod verify;
