//! What made the outputs, and how: the `source`, `history`, `title` and `comment` attributes.
//!
//! A forecast file outlives the run that made it: a reader a year later must be able to tell
//! which model, which settings and which library versions produced it. The versions come
//! from the build itself (`CARGO_PKG_VERSION`, and burn's version read from `Cargo.lock` by
//! `build.rs`), so they cannot drift from the code. The pipeline file's full text goes into
//! the NetCDF file beside these ([`super::outputs`]).

use super::session::Session;
use super::RunConfig;
use crate::dataset::{per_decade, Trend};
use crate::model::CellKind;

/// sstcast's version.
pub const SSTCAST_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The burn version sstcast was built with (from `Cargo.lock`, see `build.rs`).
pub const BURN_VERSION: &str = env!("SSTCAST_BURN_VERSION");

/// The provenance attributes of one run's outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// How the forecast was made (CF `source`).
    pub source: String,
    /// When and by which command (CF `history`).
    pub history: String,
    /// What the file is (CF `title`).
    pub title: String,
    /// How to read it (CF `comment`).
    pub comment: String,
}

impl Provenance {
    /// The input files of `session`, comma-separated (the outputs' `sstcast_inputs`).
    pub fn inputs(session: &Session) -> String {
        session
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The named boxes fitted in `session`, comma-separated (the outputs' `sstcast_boxes`;
    /// empty when none): a box the input holds no ocean of is skipped ([`crate::region::layout`]).
    pub fn boxes(rc: &RunConfig, session: &Session) -> String {
        rc.pipeline
            .regions
            .boxes
            .iter()
            .filter(|b| session.regions.iter().any(|r| r.id == b.name))
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The provenance of the outputs of `rc` on `session`.
    pub fn of(rc: &RunConfig, session: &Session) -> Self {
        let m = &rc.pipeline.model;
        let climatology = match m.trend {
            Trend::None => "the training climatology".to_string(),
            Trend::Global => format!(
                "a climatology following the training period's global-mean trend \
                 ({:+.3} degC per decade)",
                per_decade(session.trend_slope, session.cube.freq)
            ),
        };
        let source = format!(
            "sstcast {SSTCAST_VERSION} ({}): one seq2seq {}-layer {} encoder-decoder (hidden {}, window {}, horizon {}) per region, mean of {} seed(s), correcting damped persistence about {climatology}; burn {BURN_VERSION}",
            rc.config_path.display(),
            m.layers,
            match m.cell {
                CellKind::Gru => "GRU",
                CellKind::Lstm => "LSTM",
            },
            m.hidden,
            m.window,
            m.horizon,
            m.ensemble.max(1),
        );
        let history = format!(
            "{}: {} (sstcast {SSTCAST_VERSION})",
            crate::time::now_utc(),
            rc.command_line,
        );
        let title = format!(
            "sstcast {} sea surface temperature forecast for {} from {}",
            rc.pipeline.name(),
            rc.year,
            session.product
        );
        let mut comment = format!(
            "Forecast reference time {}: models were trained only on data before it and decoded autoregressively. Cells outside every forecast region are fill.",
            session.origin.label(session.cube.freq)
        );
        if !session.skipped_boxes.is_empty() {
            let skipped: Vec<String> = session
                .skipped_boxes
                .iter()
                .map(|s| s.to_string())
                .collect();
            comment.push_str(&format!(
                " Named boxes of the pipeline not fitted, the input holding none of their ocean: {}.",
                skipped.join(", ")
            ));
        }
        Self {
            source,
            history,
            title,
            comment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The versions are the build's, not hand-written strings.
    #[test]
    fn versions_come_from_the_build() {
        let lock = include_str!("../../Cargo.lock");
        let burn = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"burn\"\n"))
            .expect("burn in Cargo.lock");
        assert!(
            burn.contains(&format!("version = \"{BURN_VERSION}\"")),
            "{burn}"
        );
        assert!(
            include_str!("../../Cargo.toml").contains(&format!("version = \"{SSTCAST_VERSION}\""))
        );
    }
}
