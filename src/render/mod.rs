//! Figure rendering for `sstcast`: global heatmaps written as PNG files.
//!
//! Why: forecasts and their errors are inspected as matplotlib-style maps
//! (filled cells, coolwarm/RdBu_r colours, contours, colorbar, lat/lon axes),
//! but the pipeline must not depend on Python or on system fonts at runtime
//! and has to render many frames quickly. So the figure is rasterised
//! directly into an RGB buffer (cells, contours, axes, text via `ab_glyph`
//! with the embedded DejaVu Sans from the `dejavu` crate), encoded with
//! `image`'s PNG encoder and written atomically.
//!
//! * [`colormap`]: matplotlib-exact 256-entry colour tables.
//! * [`contour`]: marching squares and matplotlib-like level selection.
//! * [`heatmap`]: layout, rasterisation and the atomic PNG writer.

pub mod colormap;
pub mod contour;
pub mod heatmap;

pub use colormap::Colormap;
pub use heatmap::{render_heatmap, HeatmapStyle};

/// Why a figure could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Invalid inputs (coordinates, style) or a drawing/encoding failure.
    #[error("cannot draw heatmap {path}: {message}")]
    Draw {
        path: std::path::PathBuf,
        message: String,
    },
    /// Writing, syncing or renaming the output file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `values.len()` does not match `lat.len() * lon.len()`.
    #[error("field has {actual} values but the grid is {nlat} x {nlon}")]
    Shape {
        nlat: usize,
        nlon: usize,
        actual: usize,
    },
}
