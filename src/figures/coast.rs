//! Coastlines for the maps: Natural Earth land outlines (public domain), read at run time
//! from the TopoJSON files of the npm package `world-atlas` (`land-110m.json`,
//! `land-50m.json`), which `make coastlines` fetches into `data/world-atlas/`.
//!
//! Why not committed, and why a warning when missing: the outlines are third-party data,
//! so the repository does not carry them (the Makefile fetches them, like the input grids);
//! and a map without coastlines is still a correct map, so a missing or unreadable file
//! never fails a forecast: the maps are drawn without them and a warning names the file.
//!
//! Where: `$SSTCAST_COASTLINES` (a folder holding the `land-*.json` files) when set, else
//! `data/world-atlas` under the directory sstcast runs in (the repository root for `make`
//! targets), like the other relative paths of a run. Scale: 1:110m for grids of 1 degree or
//! coarser, 1:50m for finer grids (falling back to 1:110m when only that one is there).
//!
//! TopoJSON: every arc of the `land` object is one stretch of coast; arcs are quantized
//! (integer deltas, then `scale` and `translate`), decoded here with `serde_json`. The
//! renderer drops the cuts of the polygons along the antimeridian and the south pole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::render::Polylines;

/// Why a coastline file could not be used (reported as a warning, see the module doc).
#[derive(Debug, thiserror::Error)]
pub enum CoastError {
    /// The file cannot be read.
    #[error("cannot read coastlines {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not a quantized TopoJSON topology with arcs.
    #[error("coastlines {path} are not a TopoJSON topology: {message}")]
    Format { path: PathBuf, message: String },
}

impl CoastError {
    /// A coastline file that cannot be read is missing input (66); a malformed one is bad
    /// data (65). Callers warn instead of failing.
    pub fn class(&self) -> crate::error_class::ErrorClass {
        use crate::error_class::ErrorClass;
        match self {
            Self::Read { .. } => ErrorClass::NoInput,
            Self::Format { .. } => ErrorClass::Data,
        }
    }
}

#[derive(serde::Deserialize)]
struct Topology {
    transform: Transform,
    arcs: Vec<Vec<[i64; 2]>>,
}

#[derive(serde::Deserialize)]
struct Transform {
    scale: [f64; 2],
    translate: [f64; 2],
}

/// The folder the coastline files are read from (see the module doc).
pub fn default_dir() -> PathBuf {
    std::env::var_os("SSTCAST_COASTLINES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data/world-atlas"))
}

/// The file for a grid whose finest longitude step is `step` degrees, in `dir`.
pub fn file_for(dir: &Path, step: f64) -> PathBuf {
    let fine = dir.join("land-50m.json");
    if step < 1.0 && fine.exists() {
        fine
    } else {
        dir.join("land-110m.json")
    }
}

/// The coastlines of `path` as longitude/latitude polylines.
pub fn read(path: &Path) -> Result<Polylines, CoastError> {
    let text = std::fs::read(path).map_err(|source| CoastError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&text).map_err(|message| CoastError::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Decode a quantized TopoJSON topology's arcs.
fn decode(text: &[u8]) -> Result<Polylines, String> {
    let t: Topology = serde_json::from_slice(text).map_err(|e| e.to_string())?;
    let ([sx, sy], [tx, ty]) = (t.transform.scale, t.transform.translate);
    Ok(t.arcs
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0i64, 0i64);
            arc.iter()
                .map(|d| {
                    (x, y) = (x + d[0], y + d[1]);
                    (x as f64 * sx + tx, y as f64 * sy + ty)
                })
                .collect()
        })
        .collect())
}

/// The coastlines for a grid with longitudes `lon`, from [`default_dir`]; `None` (and, once
/// per process, a warning naming the file) when they cannot be read.
pub fn for_grid(lon: &[f64]) -> Option<Arc<Polylines>> {
    let step = lon
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let path = file_for(&default_dir(), step);
    match read(&path) {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            // Once per process: a run asks for every map it draws.
            static WARNED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    "{e}; maps are drawn without coastlines (run `make coastlines`, or set SSTCAST_COASTLINES)"
                );
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_arcs_are_decoded() {
        let topo = br#"{"type":"Topology","transform":{"scale":[0.5,0.25],"translate":[-180,-90]},
            "objects":{"land":{"type":"GeometryCollection","geometries":[]}},
            "arcs":[[[0,0],[2,4],[-1,0]],[[720,360]]]}"#;
        let c = decode(topo).unwrap();
        assert_eq!(
            c,
            vec![
                vec![(-180.0, -90.0), (-179.0, -89.0), (-179.5, -89.0)],
                vec![(180.0, 0.0)]
            ]
        );
        assert!(decode(b"{\"type\":\"Topology\"}").is_err());
    }

    #[test]
    fn missing_file_is_an_error_and_scale_follows_the_grid() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&dir.path().join("land-110m.json")).unwrap_err();
        assert!(e.to_string().contains("land-110m.json"), "{e}");
        assert_eq!(
            file_for(dir.path(), 0.25),
            dir.path().join("land-110m.json")
        );
        std::fs::write(dir.path().join("land-50m.json"), "{}").unwrap();
        assert_eq!(file_for(dir.path(), 0.25), dir.path().join("land-50m.json"));
        assert_eq!(file_for(dir.path(), 2.0), dir.path().join("land-110m.json"));
    }
}
