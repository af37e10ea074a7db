//! Cutting the ocean into regions, each of which gets its own forecaster.
//!
//! Two kinds, which can be combined in one pipeline:
//! - **Tiles**: the global grid cut into blocks of `rows x cols` cells (5x5 on the 2-degree
//!   grid by default, the original project's block size), starting at the north-west
//!   corner of the canonical grid. Tiles without any ocean cell are skipped; land cells
//!   inside a tile are simply not channels of its model.
//! - **Boxes**: named latitude/longitude boxes from the configuration, for the areas people
//!   report on (Nino 3.4, the block south of Iceland). Longitudes may be given in 0..360 or
//!   -180..180, and a box may cross the dateline (`lon: [170, -170]`).
//!
//! A cell covered by several regions (a box over tiles) gets the mean of their forecasts.
//!
//! The ocean mask is decided by the caller from training data only (see
//! [`crate::dataset::prep`]); this module only groups the cells it is given.

use crate::grid::LatLon;

/// A named lat/lon box from the configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxSpec {
    /// Region name, used in file names and logs.
    pub name: String,
    /// `[south, north]`, degrees.
    pub lat: [f64; 2],
    /// `[west, east]`, degrees, 0..360 or -180..180; west > east crosses the dateline.
    pub lon: [f64; 2],
}

/// One region: a set of ocean cells fitted together.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Stable identifier: `tile_RR_CC` or the box name.
    pub id: String,
    /// Flat canonical cell indices (`lat * nlon + lon`), ascending.
    pub cells: Vec<usize>,
}

/// Problems with region definitions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegionError {
    /// A named box holds no ocean cell.
    #[error("region {name:?} (lat {lat:?}, lon {lon:?}) contains no ocean cell with a complete training record")]
    NoOcean {
        /// Box name.
        name: String,
        /// Its latitudes.
        lat: [f64; 2],
        /// Its longitudes.
        lon: [f64; 2],
    },
    /// No region at all.
    #[error(
        "the pipeline defines no region with ocean cells (set regions.tiles and/or regions.boxes)"
    )]
    Empty,
}

impl RegionError {
    /// A property of the input's ocean (65).
    pub fn class(&self) -> crate::error_class::ErrorClass {
        crate::error_class::ErrorClass::Data
    }
}

/// Builds the regions of a grid from `tiles` and `boxes`, keeping only cells where `ocean`.
pub fn build(
    grid: &LatLon,
    ocean: &[bool],
    tiles: Option<[usize; 2]>,
    boxes: &[BoxSpec],
) -> Result<Vec<Region>, RegionError> {
    let (nlat, nlon) = (grid.nlat(), grid.nlon());
    let mut out = Vec::new();
    if let Some([rows, cols]) = tiles {
        for tr in 0..nlat.div_ceil(rows) {
            for tc in 0..nlon.div_ceil(cols) {
                let mut cells = Vec::new();
                for i in tr * rows..((tr + 1) * rows).min(nlat) {
                    for j in tc * cols..((tc + 1) * cols).min(nlon) {
                        let k = i * nlon + j;
                        if ocean[k] {
                            cells.push(k);
                        }
                    }
                }
                if !cells.is_empty() {
                    out.push(Region {
                        id: format!("tile_{tr:02}_{tc:02}"),
                        cells,
                    });
                }
            }
        }
    }
    for b in boxes {
        let (s, n) = (b.lat[0].min(b.lat[1]), b.lat[0].max(b.lat[1]));
        let width = (b.lon[1] - b.lon[0]).rem_euclid(360.0);
        let mut cells = Vec::new();
        for (i, &la) in grid.lat.iter().enumerate() {
            if la < s || la > n {
                continue;
            }
            for (j, &lo) in grid.lon.iter().enumerate() {
                if (lo - b.lon[0]).rem_euclid(360.0) <= width + 1e-9 && ocean[i * nlon + j] {
                    cells.push(i * nlon + j);
                }
            }
        }
        if cells.is_empty() {
            return Err(RegionError::NoOcean {
                name: b.name.clone(),
                lat: b.lat,
                lon: b.lon,
            });
        }
        out.push(Region {
            id: b.name.clone(),
            cells,
        });
    }
    if out.is_empty() {
        return Err(RegionError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> LatLon {
        // 2-degree global grid like ERSST, canonical orientation.
        LatLon {
            lat: (0..89).map(|i| 88.0 - 2.0 * i as f64).collect(),
            lon: (0..180).map(|j| -180.0 + 2.0 * j as f64).collect(),
        }
    }

    #[test]
    fn tiles_cover_the_ocean_and_skip_land() {
        let g = grid();
        // Land everywhere west of 0 E.
        let ocean: Vec<bool> = (0..g.ncells()).map(|k| g.lon[k % 180] >= 0.0).collect();
        let r = build(&g, &ocean, Some([5, 5]), &[]).unwrap();
        assert_eq!(r.len(), 18 * 18); // 18 tile rows (last one 4 rows), 18 ocean tile columns
        let covered: usize = r.iter().map(|x| x.cells.len()).sum();
        assert_eq!(covered, ocean.iter().filter(|&&o| o).count());
        assert!(r.iter().all(|x| x.cells.iter().all(|&k| ocean[k])));
        assert_eq!(r[0].id, "tile_00_18");
    }

    #[test]
    fn boxes_accept_0_360_and_dateline_crossing() {
        let g = grid();
        let ocean = vec![true; g.ncells()];
        // South of Iceland, given in 0..360 as in the original project.
        let iceland = BoxSpec {
            name: "iceland".into(),
            lat: [56.0, 64.0],
            lon: [340.0, 348.0],
        };
        let dateline = BoxSpec {
            name: "dateline".into(),
            lat: [-1.0, 1.0],
            lon: [176.0, -176.0],
        };
        let r = build(&g, &ocean, None, &[iceland, dateline]).unwrap();
        assert_eq!(r[0].cells.len(), 25);
        let lons: Vec<f64> = r[1].cells.iter().map(|&k| g.lon[k % 180]).collect();
        assert_eq!(lons, vec![-180.0, -178.0, -176.0, 176.0, 178.0]);
    }

    #[test]
    fn all_land_box_is_an_error_naming_it() {
        let g = grid();
        let ocean = vec![false; g.ncells()];
        let b = BoxSpec {
            name: "sahara".into(),
            lat: [20.0, 30.0],
            lon: [0.0, 10.0],
        };
        let e = build(&g, &ocean, None, &[b]).unwrap_err();
        assert!(e.to_string().contains("sahara"));
        assert_eq!(
            build(&g, &ocean, Some([5, 5]), &[]),
            Err(RegionError::Empty)
        );
    }
}
