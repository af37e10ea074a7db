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

/// The regions of a grid, and the named boxes that were left out or cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The regions, tiles first, then the boxes in the order given.
    pub regions: Vec<Region>,
    /// Boxes not fitted: the input holds no ocean cell of theirs ([`Skipped`]).
    pub skipped: Vec<Skipped>,
    /// Boxes that reach beyond the input's domain, fitted on the ocean cells inside it.
    pub partial: Vec<String>,
}

/// A named box left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Box name.
    pub name: String,
    /// No cell of the grid lies in the box (`false`: some do, all land, and the box reaches
    /// beyond the domain, where its ocean is).
    pub outside: bool,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.outside {
            write!(f, "{} (outside the input's domain)", self.name)
        } else {
            write!(
                f,
                "{} (only land of it inside the input's domain)",
                self.name
            )
        }
    }
}

/// Builds the regions of a grid from `tiles` and `boxes`, keeping only cells where `ocean`
/// (the regions of [`layout`], without its account of the boxes).
pub fn build(
    grid: &LatLon,
    ocean: &[bool],
    tiles: Option<[usize; 2]>,
    boxes: &[BoxSpec],
) -> Result<Vec<Region>, RegionError> {
    Ok(layout(grid, ocean, tiles, boxes)?.regions)
}

/// The regions of a grid from `tiles` and `boxes`, keeping only cells where `ocean`, with the
/// boxes that were skipped or cut by the input's domain.
///
/// A named box outside the input's domain is skipped, not an error: the default pipeline
/// names boxes (south of Iceland, Nino 3.4) for the global products it was written for, and
/// an operator pointing it at a regional file with `--input` wants the forecast of the
/// region the file covers, not an exit 65 and a copy of the YAML to edit. The same holds for a
/// box that reaches beyond the domain and has only land inside it. A box partly inside is
/// fitted on its ocean cells inside. A box entirely inside the domain that holds no ocean cell
/// is still an error ([`RegionError::NoOcean`]): that box is a mistake in the pipeline, and no
/// other input would make it right.
pub fn layout(
    grid: &LatLon,
    ocean: &[bool],
    tiles: Option<[usize; 2]>,
    boxes: &[BoxSpec],
) -> Result<Layout, RegionError> {
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
    let (mut skipped, mut partial) = (Vec::new(), Vec::new());
    for b in boxes {
        let (s, n) = (b.lat[0].min(b.lat[1]), b.lat[0].max(b.lat[1]));
        let width = (b.lon[1] - b.lon[0]).rem_euclid(360.0);
        let mut cells = Vec::new();
        let mut inside = 0;
        for (i, &la) in grid.lat.iter().enumerate() {
            if la < s || la > n {
                continue;
            }
            for (j, &lo) in grid.lon.iter().enumerate() {
                if (lo - b.lon[0]).rem_euclid(360.0) <= width + 1e-9 {
                    inside += 1;
                    if ocean[i * nlon + j] {
                        cells.push(i * nlon + j);
                    }
                }
            }
        }
        let within = within_domain(grid, [s, n], b.lon[0], width);
        if cells.is_empty() {
            if within && inside > 0 {
                return Err(RegionError::NoOcean {
                    name: b.name.clone(),
                    lat: b.lat,
                    lon: b.lon,
                });
            }
            skipped.push(Skipped {
                name: b.name.clone(),
                outside: inside == 0,
            });
            continue;
        }
        if !within {
            partial.push(b.name.clone());
        }
        out.push(Region {
            id: b.name.clone(),
            cells,
        });
    }
    if out.is_empty() {
        return Err(RegionError::Empty);
    }
    Ok(Layout {
        regions: out,
        skipped,
        partial,
    })
}

/// Whether the box `[south, north]` x `west + [0, width]` (degrees east) lies within the
/// grid's domain: its cells' extent, half a cell beyond the outermost centres (any longitude
/// for a grid around the globe).
fn within_domain(grid: &LatLon, lat: [f64; 2], west: f64, width: f64) -> bool {
    let half = |c: &[f64]| {
        if c.len() < 2 {
            0.0
        } else {
            (c[c.len() - 1] - c[0]).abs() / (c.len() - 1) as f64 / 2.0
        }
    };
    const EPS: f64 = 1e-6;
    let (lo, hi) = grid
        .lat
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let hl = half(&grid.lat);
    let lat_ok = lat[0] >= (lo - hl).max(-90.0) - EPS && lat[1] <= (hi + hl).min(90.0) + EPS;
    if !lat_ok || grid.lon.is_empty() {
        return false;
    }
    if grid.is_global() {
        return true;
    }
    let hx = half(&grid.lon);
    let (dom_west, dom_width) = (
        grid.lon[0] - hx,
        grid.lon[grid.lon.len() - 1] - grid.lon[0] + 2.0 * hx,
    );
    (west - dom_west).rem_euclid(360.0) + width <= dom_width + EPS
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

    /// A tropical band 20S..20N over 120E..70W (across the dateline, longitudes past 180),
    /// 2-degree cells, all ocean, with land west of 130E.
    fn band() -> (LatLon, Vec<bool>) {
        let g = LatLon {
            lat: (0..21).map(|i| 20.0 - 2.0 * i as f64).collect(),
            lon: (0..86).map(|j| 120.0 + 2.0 * j as f64).collect(),
        };
        let ocean = (0..g.ncells()).map(|k| g.lon[k % 86] >= 130.0).collect();
        (g, ocean)
    }

    fn spec(name: &str, lat: [f64; 2], lon: [f64; 2]) -> BoxSpec {
        BoxSpec {
            name: name.into(),
            lat,
            lon,
        }
    }

    #[test]
    fn boxes_outside_a_regional_domain_are_skipped_and_partial_ones_cut() {
        let (g, ocean) = band();
        let boxes = [
            spec("iceland-south", [56.0, 64.0], [340.0, 348.0]),
            spec("nino34", [-5.0, 5.0], [190.0, 240.0]),
            spec("nino4", [-5.0, 5.0], [160.0, -150.0]),
            // Reaches 30N, beyond the band's 21N: fitted on its cells up to 20N.
            spec("kuroshio-south", [10.0, 30.0], [140.0, 150.0]),
            // Reaches west of the domain (110E) with land only inside it.
            spec("west-coast", [-4.0, 4.0], [110.0, 126.0]),
            // Outside in longitude only (the band ends at 70W = 290E).
            spec("atlantic", [-5.0, 5.0], [330.0, 340.0]),
        ];
        let l = layout(&g, &ocean, Some([5, 5]), &boxes).unwrap();
        let ids: Vec<&str> = l.regions.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.contains(&"nino34") && ids.contains(&"nino4"), "{ids:?}");
        let kuro = l.regions.iter().find(|r| r.id == "kuroshio-south").unwrap();
        assert_eq!(
            kuro.cells.len(),
            6 * 6,
            "10..20N x 140..150E inside the band"
        );
        assert_eq!(l.partial, vec!["kuroshio-south".to_string()]);
        let skipped: Vec<String> = l.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            skipped,
            vec![
                "iceland-south (outside the input's domain)",
                "west-coast (only land of it inside the input's domain)",
                "atlantic (outside the input's domain)",
            ]
        );
        // Only skipped boxes and no tiles: nothing to fit.
        assert_eq!(
            layout(&g, &ocean, None, &boxes[..1]),
            Err(RegionError::Empty)
        );
        // A box inside the domain on land only is still a mistake in the pipeline.
        let e = layout(
            &g,
            &ocean,
            None,
            &[spec("land", [-4.0, 4.0], [120.0, 126.0])],
        );
        assert!(matches!(e, Err(RegionError::NoOcean { .. })), "{e:?}");
    }
}
