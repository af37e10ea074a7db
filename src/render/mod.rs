//! Figure rendering for `sstcast`: global heatmaps and line charts, returned as PNG bytes.
//!
//! Why: forecasts and their errors are inspected as matplotlib-style maps
//! (filled cells, coolwarm/RdBu_r colours, contours, coastlines, colorbar, lat/lon axes),
//! but the pipeline must not depend on Python or on system fonts at runtime
//! and has to render many frames quickly. So the figure is drawn on a `tiny-skia`
//! pixmap (anti-aliased paths: lines, contours, bands, coastlines), its isolines computed
//! by georust `contour`, its text drawn with `ab_glyph` from the embedded DejaVu Sans of
//! the `dejavu` crate, and encoded with `image`'s PNG encoder. Rendering never touches the file system: the caller
//! writes the bytes (`io::atomic`, or the pipeline's staged outputs),
//! so where and how files appear is decided in one place for every output.
//!
//! * [`colormap`]: matplotlib-exact 256-entry colour tables.
//! * [`heatmap`]: maps: layout, cells, colour ranges; contours, coastlines and hatching
//!   over them.
//! * [`lines`]: line charts (loss curves, time series with a forecast, lines with
//!   confidence bands).
//!
//! Private building blocks shared by the figure types:
//! * `canvas`: the `tiny-skia` pixmap (pixel-exact rectangles, blending, paths, PNG);
//! * `text`: DejaVu Sans glyphs on the canvas, tick labels with exponents;
//! * `ticks`: tick values and labels (linear, log, degrees), number format, contour levels;
//! * `axes`: frame, ticks, tick labels, grid, axis labels and title;
//! * `legend`: the line charts' legend;
//!
//! `tests/render_golden.rs` pins the PNG bytes of representative figures.
//!
//! Layering: render uses only std, external crates and [`crate::error_class`].

mod axes;
mod canvas;
pub mod colormap;
pub mod heatmap;
mod legend;
pub mod lines;
mod text;
mod ticks;

pub use colormap::Colormap;
pub use heatmap::{
    render_heatmap, render_heatmap_hatched, robust_range, HeatmapStyle, Polylines, LAND_GREY,
};
pub use lines::{render_lines, Band, LineChartStyle, Series, TAB10};

/// Why a figure could not be drawn. Errors name no file: render writes none; the caller
/// that writes the bytes adds the path.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Invalid heatmap inputs (coordinates, style) or a drawing/encoding failure.
    #[error("cannot draw heatmap: {message}")]
    Draw { message: String },
    /// Invalid line-chart inputs (no series, x/y length mismatch, nothing
    /// drawable, bad size) or an encoding failure.
    #[error("cannot draw line chart: {message}")]
    Chart { message: String },
    /// `values.len()` does not match `lat.len() * lon.len()`.
    #[error("field has {actual} values but the grid is {nlat} x {nlon}")]
    Shape {
        nlat: usize,
        nlon: usize,
        actual: usize,
    },
}

impl RenderError {
    /// A figure that cannot be drawn is an output that cannot be created (73).
    pub fn class(&self) -> crate::error_class::ErrorClass {
        crate::error_class::ErrorClass::CannotCreate
    }
}
