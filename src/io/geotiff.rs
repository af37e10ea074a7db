//! GeoTIFF export of forecast grids.
//!
//! Why GeoTIFF: it is the format GIS users (QGIS, ArcGIS, GDAL, rasterio)
//! open without any extra tooling, so forecasts can be dropped straight onto
//! a map. The choices below are made so that the file "just works" there:
//!
//! * CRS is EPSG:4326 (plain WGS 84 longitude/latitude), taken from the EPSG
//!   code so the WKT is the canonical one and `gdalinfo` reports
//!   `ID["EPSG",4326]`. The geotransform is always in traditional GIS axis
//!   order (x = longitude, y = latitude), whatever axis order EPSG defines.
//! * Longitudes are -180..180 and the raster is north-up: origin at the
//!   upper-left *corner* (west edge, north edge), i.e. half a cell outside the
//!   first cell centre. Latitudes given south-to-north are flipped.
//! * NaN is the nodata value on every band (land, ice, missing data), so GIS
//!   tools render those cells transparent.
//! * One float32 band per forecast step, each with a description such as
//!   "2018-01 (lead 1)", so a user can pick the lead time by band name.
//! * A **Cloud-Optimized GeoTIFF** at every size, written by GDAL's COG driver: 256x256
//!   tiles, DEFLATE with the floating-point predictor (lossless, read by every GeoTIFF reader
//!   including old libtiffs, which ZSTD is not; the predictor makes smooth SST fields compress
//!   well), and overviews (2x, 4x, ... averaged, NaN cells ignored) until the smallest fits in
//!   one tile. Web maps, QGIS over HTTP and STAC catalogues read a COG by byte ranges: a
//!   tile of the lead they show, or an overview when zoomed out, not the whole file. A
//!   2-degree grid (180x89) is one tile and needs no overview; a 0.25-degree grid (1440x720)
//!   gets three levels. The driver (GDAL 3.6) interleaves the bands by pixel, so a tile holds
//!   every lead of its cells: small for these band counts, and what the driver guarantees.
//!   The COG driver only copies a dataset, so the bands are assembled in memory (GDAL's MEM
//!   driver) first.
//! * The grid must be regular to be georeferenced by a geotransform; float32 coordinates
//!   are, within the tolerance of [`crate::grid::regular_axis`], which also rounds the step
//!   and origin to the values the producer meant (1/1.2 degree, edges on whole degrees).
//! * The write is atomic: the dataset is built under a hidden temporary name
//!   in the destination directory, closed, checked by reopening it, and only
//!   then renamed onto the target. A crash or error never leaves a
//!   half-written file under the real name, and the temporary file is removed
//!   on every error path.

use std::path::{Path, PathBuf};

use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::{Dataset, DriverManager, Metadata};

use super::atomic::TempFile;
use crate::grid::{regular_axis, Irregular};

/// Errors from [`write_geotiff`].
#[derive(Debug, thiserror::Error)]
pub enum GeoTiffError {
    #[error("cannot write GeoTIFF {path}: {message}")]
    Gdal { path: PathBuf, message: String },
    #[error("GeoTIFF {path}: the grid is not regular: {message}")]
    IrregularGrid { path: PathBuf, message: String },
    #[error("GeoTIFF {path}: {bands} band names for {actual} bands")]
    BandCount {
        path: PathBuf,
        bands: usize,
        actual: usize,
    },
    #[error("GeoTIFF {path}: band data has {actual} values, expected {wanted}")]
    BufferLen {
        path: PathBuf,
        wanted: usize,
        actual: usize,
    },
}

impl GeoTiffError {
    /// A grid a GeoTIFF cannot represent is a property of the input (65); every other
    /// failure is an output that cannot be created (73).
    pub fn class(&self) -> crate::error_class::ErrorClass {
        match self {
            Self::IrregularGrid { .. } => crate::error_class::ErrorClass::Data,
            _ => crate::error_class::ErrorClass::CannotCreate,
        }
    }
}

/// Tile size of the COG, pixels.
pub const TILE: usize = 256;

/// Why a grid cannot be georeferenced by a geotransform.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unmappable {
    /// An axis is not evenly spaced.
    #[error(transparent)]
    Irregular(#[from] Irregular),
    /// Longitudes run east to west.
    #[error("longitudes must be strictly increasing")]
    Decreasing,
    /// Longitudes outside one contiguous turn from -180.
    #[error("longitudes must start at or after -180 and span at most 360 degrees, got {first} .. {last}")]
    Span {
        /// The first longitude.
        first: f64,
        /// The last longitude.
        last: f64,
    },
}

/// How a grid maps onto a north-up raster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Georef {
    /// GDAL geotransform: `[west edge, dx, 0, north edge, 0, -dy]`.
    pub transform: [f64; 6],
    /// The latitudes run south to north: rows are flipped.
    pub flip: bool,
}

/// The georeferencing of cell centres `lat` x `lon`, or why there is none: what
/// [`write_geotiff`] checks first, callable before any work is done (the pipeline checks the
/// input's grid before fitting).
pub fn georef(lat: &[f64], lon: &[f64]) -> Result<Georef, Unmappable> {
    let x = regular_axis("longitude", lon)?;
    let dx = x.step;
    if dx <= 0.0 {
        return Err(Unmappable::Decreasing);
    }
    // Global grids arrive as -180..180 (the reader normalises them); a regional grid that
    // crosses the dateline keeps one contiguous range past 180, which EPSG:4326 allows.
    let span = lon.len() as f64 * dx;
    if !(lon[0] >= -180.0 - dx / 2.0 && lon[lon.len() - 1] < 360.0 && span <= 360.0 + 1e-6) {
        return Err(Unmappable::Span {
            first: lon[0],
            last: lon[lon.len() - 1],
        });
    }
    let y = regular_axis("latitude", lat)?;
    let flip = y.step > 0.0; // south-to-north input
    let dy = y.step.abs();
    let north = if flip {
        y.first + y.step * (lat.len() - 1) as f64
    } else {
        y.first
    };
    Ok(Georef {
        transform: [x.first - dx / 2.0, dx, 0.0, north + dy / 2.0, 0.0, -dy],
        flip,
    })
}

/// Write a multi-band float32 Cloud-Optimized GeoTIFF on a regular lat/lon grid.
///
/// * `lat`: cell-centre latitudes, evenly spaced (within [`crate::grid::REGULAR_RTOL`] of a
///   step, so float32 coordinates are), either strictly decreasing (north to south) or
///   strictly increasing (rows are then flipped so that the raster is north-up).
/// * `lon`: cell-centre longitudes, strictly increasing, evenly spaced,
///   within [-180, 180) (a regional grid across the dateline may continue past 180).
/// * `bands`: one `Vec<f32>` per band, row-major `[lat][lon]` in the order of
///   `lat`, NaN = no data.
/// * `band_names`: one description per band (e.g. "2018-01 (lead 1)").
/// * `metadata`: extra (key, value) pairs written as dataset metadata, e.g.
///   `("units", "degC")`, `("source", "sstcast 0.1.0")`.
///
/// The file is EPSG:4326 with the geotransform of [`georef`]
/// (`[west edge, dx, 0, north edge, 0, -dy]`), nodata = NaN on every band, a COG: 256x256
/// tiles, DEFLATE + floating-point predictor, averaged overviews when larger than a tile.
///
/// The write is atomic: the dataset is created as `.<name>.tmp-<pid>-<n>` ([`TempFile`])
/// in the same directory, closed and verified, then renamed onto `path`. On
/// any error the temporary file is removed and `path` is left untouched.
pub fn write_geotiff(
    path: &Path,
    lat: &[f64],
    lon: &[f64],
    bands: &[Vec<f32>],
    band_names: &[String],
    metadata: &[(String, String)],
) -> Result<(), GeoTiffError> {
    quiet_gdal();
    // Validate everything before touching the filesystem.
    let gdal_err = |message: String| GeoTiffError::Gdal {
        path: path.to_path_buf(),
        message,
    };
    let Georef {
        transform: geo_transform,
        flip,
    } = georef(lat, lon).map_err(|e| GeoTiffError::IrregularGrid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;

    if band_names.len() != bands.len() {
        return Err(GeoTiffError::BandCount {
            path: path.to_path_buf(),
            bands: band_names.len(),
            actual: bands.len(),
        });
    }
    if bands.is_empty() {
        return Err(gdal_err("no bands to write".to_string()));
    }
    let (nx, ny) = (lon.len(), lat.len());
    let wanted = nx * ny;
    if let Some(b) = bands.iter().find(|b| b.len() != wanted) {
        return Err(GeoTiffError::BufferLen {
            path: path.to_path_buf(),
            wanted,
            actual: b.len(),
        });
    }
    if let Some((k, _)) = metadata
        .iter()
        .find(|(k, _)| k.is_empty() || k.contains('=') || k.chars().any(char::is_whitespace))
    {
        return Err(gdal_err(format!("invalid metadata key {k:?}")));
    }

    if path.file_name().is_none() {
        return Err(gdal_err("path has no file name".to_string()));
    }
    let tmp = TempFile::new(path);

    let result = write_tmp(
        tmp.path(),
        nx,
        ny,
        flip,
        geo_transform,
        bands,
        band_names,
        metadata,
    )
    .map_err(|e| gdal_err(e.to_string()))
    .inspect_err(|_| remove_aux(tmp.path()));
    result?;
    let shown = tmp.path().to_string_lossy().into_owned();
    tmp.commit()
        .map_err(|e| gdal_err(format!("cannot rename {shown} onto it: {e}")))
}

/// Create, fill, close and verify the dataset at `tmp`.
#[allow(clippy::too_many_arguments)]
fn write_tmp(
    tmp: &Path,
    nx: usize,
    ny: usize,
    flip: bool,
    geo_transform: [f64; 6],
    bands: &[Vec<f32>],
    band_names: &[String],
    metadata: &[(String, String)],
) -> gdal::errors::Result<()> {
    // The bands are assembled in memory; the COG driver writes the file in one copy.
    let mut ds = DriverManager::get_driver_by_name("MEM")?.create_with_band_type::<f32, _>(
        "",
        nx,
        ny,
        bands.len(),
    )?;

    // EPSG:4326 is latitude-first by authority; GDAL's geotransform is always
    // x = longitude, y = latitude, which is the traditional GIS order.
    let mut srs = SpatialRef::from_epsg(4326)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    ds.set_spatial_ref(&srs)?;
    ds.set_geo_transform(&geo_transform)?;
    for (key, value) in metadata {
        ds.set_metadata_item(key, value, "")?;
    }

    for (i, (data, name)) in bands.iter().zip(band_names).enumerate() {
        let mut band = ds.rasterband(i + 1)?;
        band.set_no_data_value(Some(f64::NAN))?;
        band.set_description(name)?;
        let rows = if flip {
            data.chunks_exact(nx).rev().flatten().copied().collect()
        } else {
            data.clone()
        };
        let mut buffer = Buffer::new((nx, ny), rows);
        band.write((0, 0), (nx, ny), &mut buffer)?;
    }
    let mut options = RasterCreationOptions::new();
    for (key, value) in [
        ("BLOCKSIZE", TILE.to_string().as_str()),
        ("COMPRESS", "DEFLATE"),
        ("PREDICTOR", "YES"), // the floating-point predictor for float32 bands
        ("OVERVIEW_COMPRESS", "DEFLATE"),
        ("OVERVIEW_PREDICTOR", "YES"),
        // Overviews until one tile holds the whole grid (none for a grid within one tile);
        // averaged, NaN (nodata) cells left out of the mean.
        ("OVERVIEWS", "AUTO"),
        ("OVERVIEW_RESAMPLING", "AVERAGE"),
        // Files beyond 4 GiB switch to BigTIFF; small ones stay classic TIFF for the
        // widest reader support.
        ("BIGTIFF", "IF_SAFER"),
    ] {
        options.add_name_value(key, value)?;
    }
    let cog = DriverManager::get_driver_by_name("COG")?;
    let out = ds.create_copy(&cog, tmp, &options)?;
    ds.close()?;
    // Before GDAL 3.7 neither flush nor close reports I/O errors, so reopen
    // the file and decode every band: a short or corrupt write fails here
    // instead of being renamed into place.
    out.close()?;

    let check = Dataset::open(tmp)?;
    if check.raster_size() != (nx, ny) || check.raster_count() != bands.len() {
        return Err(gdal::errors::GdalError::BadArgument(format!(
            "reopened file is {:?} with {} bands, expected {:?} with {}",
            check.raster_size(),
            check.raster_count(),
            (nx, ny),
            bands.len()
        )));
    }
    for band in check.rasterbands() {
        band?.read_band_as::<f32>()?;
    }
    Ok(())
}

/// Remove the temporary file (and any sidecar GDAL may have made), ignoring
/// errors: it may never have been created.
/// Routes GDAL's own messages (which it prints to stderr by default) to `tracing` at debug
/// level: the error that matters reaches the user through [`GeoTiffError`], which already
/// names the file, and cron logs should not carry raw library chatter.
fn quiet_gdal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        gdal::config::set_error_handler(|class, code, msg| {
            tracing::debug!("GDAL {class:?} {code}: {msg}");
        })
    });
}

/// Removes the `.aux.xml` sidecar GDAL may have created beside a failed temporary file (the
/// temporary itself is removed when its [`TempFile`] is dropped).
fn remove_aux(tmp: &Path) {
    let mut aux = tmp.as_os_str().to_owned();
    aux.push(".aux.xml");
    let _ = std::fs::remove_file(aux);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|l| format!("2018-0{l} (lead {l})")).collect()
    }

    fn meta() -> Vec<(String, String)> {
        vec![
            ("units".to_string(), "degC".to_string()),
            ("source".to_string(), "sstcast 0.1.0".to_string()),
        ]
    }

    /// 4x6 grid, 2-degree cells, lat 3,1,-1,-3 and lon -5..5; value encodes
    /// (band, row, col); cell (band 0, row 1, col 2) is NaN.
    fn small_bands(nb: usize) -> Vec<Vec<f32>> {
        (0..nb)
            .map(|b| {
                let mut v: Vec<f32> = (0..24)
                    .map(|i| 100.0 * b as f32 + (i / 6) as f32 * 10.0 + (i % 6) as f32 + 0.25)
                    .collect();
                if b == 0 {
                    v[6 + 2] = f32::NAN;
                }
                v
            })
            .collect()
    }

    const LAT: [f64; 4] = [3.0, 1.0, -1.0, -3.0];
    const LON: [f64; 6] = [-5.0, -3.0, -1.0, 1.0, 3.0, 5.0];

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_readable_georeferenced_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fc.tif");
        let bands = small_bands(3);
        write_geotiff(&path, &LAT, &LON, &bands, &names(3), &meta()).unwrap();
        assert_eq!(dir_entries(dir.path()), vec!["fc.tif".to_string()]);

        let ds = Dataset::open(&path).unwrap();
        assert_eq!(ds.raster_size(), (6, 4));
        assert_eq!(ds.raster_count(), 3);
        let gt = ds.geo_transform().unwrap();
        assert_eq!(gt, [-6.0, 2.0, 0.0, 4.0, 0.0, -2.0]);
        assert_eq!(ds.spatial_ref().unwrap().auth_code().unwrap(), 4326);
        assert_eq!(
            ds.metadata_item("COMPRESSION", "IMAGE_STRUCTURE")
                .as_deref(),
            Some("DEFLATE")
        );
        assert_eq!(ds.metadata_item("units", "").as_deref(), Some("degC"));
        assert_eq!(
            ds.metadata_item("source", "").as_deref(),
            Some("sstcast 0.1.0")
        );

        for (i, want) in names(3).iter().enumerate() {
            let band = ds.rasterband(i + 1).unwrap();
            assert_eq!(&band.description().unwrap(), want);
            assert!(band.no_data_value().unwrap().is_nan());
            let data = band.read_band_as::<f32>().unwrap();
            assert_eq!(data.shape(), (6, 4));
            for (got, exp) in data.data().iter().zip(&bands[i]) {
                assert!(
                    got == exp || (got.is_nan() && exp.is_nan()),
                    "{got} != {exp}"
                );
            }
        }
        let b1 = ds.rasterband(1).unwrap().read_band_as::<f32>().unwrap();
        assert!(b1.data()[6 + 2].is_nan());
        assert_eq!(b1.data()[6 + 3], 13.25);
        let b3 = ds.rasterband(3).unwrap().read_band_as::<f32>().unwrap();
        assert_eq!(b3.data()[3 * 6 + 5], 235.25);
    }

    #[test]
    fn ascending_latitudes_are_flipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asc.tif");
        let lat_asc: Vec<f64> = LAT.iter().rev().copied().collect();
        // Row r of the ascending input is row 3-r of the north-up raster.
        let north_up = small_bands(1).remove(0);
        let asc: Vec<f32> = north_up.chunks(6).rev().flatten().copied().collect();
        write_geotiff(&path, &lat_asc, &LON, &[asc], &names(1), &[]).unwrap();

        let ds = Dataset::open(&path).unwrap();
        assert_eq!(
            ds.geo_transform().unwrap(),
            [-6.0, 2.0, 0.0, 4.0, 0.0, -2.0]
        );
        let got = ds.rasterband(1).unwrap().read_band_as::<f32>().unwrap();
        assert_eq!(got.data()[0], 0.25); // north-west cell
        assert_eq!(got.data()[23], 35.25); // south-east cell
        assert!(got.data()[8].is_nan());
    }

    #[test]
    fn mismatched_buffer_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.tif");
        let mut bands = small_bands(2);
        bands[1].pop();
        let err = write_geotiff(&path, &LAT, &LON, &bands, &names(2), &[]).unwrap_err();
        assert!(
            matches!(
                err,
                GeoTiffError::BufferLen {
                    wanted: 24,
                    actual: 23,
                    ..
                }
            ),
            "{err}"
        );
        let err = write_geotiff(&path, &LAT, &LON, &bands, &names(1), &[]).unwrap_err();
        assert!(
            matches!(
                err,
                GeoTiffError::BandCount {
                    bands: 1,
                    actual: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(dir_entries(dir.path()).is_empty());
    }

    #[test]
    fn irregular_grid_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("irr.tif");
        let bands = small_bands(1);
        let lon = [-5.0, -3.0, -1.0, 1.5, 3.0, 5.0];
        let err = write_geotiff(&path, &LAT, &lon, &bands, &names(1), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::IrregularGrid { .. }), "{err}");
        let lon_dec: Vec<f64> = LON.iter().rev().copied().collect();
        let err = write_geotiff(&path, &LAT, &lon_dec, &bands, &names(1), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::IrregularGrid { .. }), "{err}");
        let lon_wide = [-185.0, -3.0, 179.0, 361.0, 543.0, 725.0];
        let err = write_geotiff(&path, &LAT, &lon_wide, &bands, &names(1), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::IrregularGrid { .. }), "{err}");
        // A regional grid across the dateline keeps its contiguous longitudes.
        let lon_dateline = [175.0, 177.0, 179.0, 181.0, 183.0, 185.0];
        write_geotiff(&path, &LAT, &lon_dateline, &bands, &names(1), &[]).unwrap();
        // Tiny float noise (well under 1e-6 relative) is accepted.
        let lon_noisy = [-5.0, -3.0 + 1e-9, -1.0, 1.0, 3.0 - 1e-9, 5.0];
        write_geotiff(&path, &LAT, &lon_noisy, &bands, &names(1), &[]).unwrap();
    }

    #[test]
    fn failure_leaves_no_temp_files_and_keeps_target() {
        let dir = tempfile::tempdir().unwrap();
        let bands = small_bands(1);

        // Parent directory does not exist: GDAL cannot create the file.
        let missing = dir.path().join("nope").join("x.tif");
        let err = write_geotiff(&missing, &LAT, &LON, &bands, &names(1), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::Gdal { .. }), "{err}");
        assert!(dir_entries(dir.path()).is_empty());

        // Rename fails (target is a non-empty directory) after the temporary
        // file was fully written: it must be cleaned up, target untouched.
        let target = dir.path().join("busy.tif");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let err = write_geotiff(&target, &LAT, &LON, &bands, &names(1), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::Gdal { .. }), "{err}");
        assert_eq!(dir_entries(dir.path()), vec!["busy.tif".to_string()]);
        assert_eq!(dir_entries(&target), vec!["keep".to_string()]);

        // A validation error leaves an existing file byte-for-byte intact.
        let good = dir.path().join("good.tif");
        write_geotiff(&good, &LAT, &LON, &bands, &names(1), &[]).unwrap();
        let before = std::fs::read(&good).unwrap();
        let err = write_geotiff(&good, &LAT, &LON, &bands, &names(2), &[]).unwrap_err();
        assert!(matches!(err, GeoTiffError::BandCount { .. }), "{err}");
        assert_eq!(std::fs::read(&good).unwrap(), before);
        assert_eq!(
            dir_entries(dir.path()),
            vec!["busy.tif".to_string(), "good.tif".to_string()]
        );
    }

    #[test]
    fn overwrite_replaces_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fc.tif");
        write_geotiff(&path, &LAT, &LON, &small_bands(1), &names(1), &[]).unwrap();
        write_geotiff(&path, &LAT, &LON, &small_bands(3), &names(3), &[]).unwrap();
        assert_eq!(Dataset::open(&path).unwrap().raster_count(), 3);
        assert_eq!(dir_entries(dir.path()), vec!["fc.tif".to_string()]);
    }

    #[test]
    fn gdalinfo_reports_global_grid_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("global.tif");
        let lat: Vec<f64> = (0..89).map(|i| 88.0 - 2.0 * i as f64).collect();
        let lon: Vec<f64> = (0..180).map(|i| -180.0 + 2.0 * i as f64).collect();
        let bands: Vec<Vec<f32>> = (0..2)
            .map(|b| {
                (0..89 * 180)
                    .map(|i| {
                        if i % 7 == 0 {
                            f32::NAN
                        } else {
                            b as f32 + (i % 180) as f32 * 0.1
                        }
                    })
                    .collect()
            })
            .collect();
        write_geotiff(&path, &lat, &lon, &bands, &names(2), &meta()).unwrap();

        let out = match std::process::Command::new("gdalinfo").arg(&path).output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("gdalinfo not installed; skipping the gdalinfo check");
                return;
            }
            Err(e) => panic!("cannot run gdalinfo: {e}"),
        };
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{text}");
        for want in [
            "Size is 180, 89",
            "Origin = (-181.000000000000000,89.000000000000000)",
            "Pixel Size = (2.000000000000000,-2.000000000000000)",
            "ID[\"EPSG\",4326]",
            "COMPRESSION=DEFLATE",
            "PREDICTOR=3",
            "Band 2 Block=",
            "Description = 2018-02 (lead 2)",
            "NoData Value=nan",
            "units=degC",
        ] {
            assert!(text.contains(want), "gdalinfo output lacks {want:?}");
        }
        assert!(!text.contains("Band 3 "));
        // gdalinfo switches number formats for out-of-range longitudes
        // (e.g. "(    -181.000,      89.000)"), so compare parsed values.
        assert_eq!(corner(&text, "Upper Left"), (-181.0, 89.0));
        assert_eq!(corner(&text, "Lower Left"), (-181.0, -89.0));
        assert_eq!(corner(&text, "Upper Right"), (179.0, 89.0));
        assert_eq!(corner(&text, "Lower Right"), (179.0, -89.0));
    }

    /// First "(x, y)" pair on gdalinfo's corner line `label`.
    fn corner(text: &str, label: &str) -> (f64, f64) {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("gdalinfo output lacks {label:?}"));
        let inner = &line[line.find('(').unwrap() + 1..line.find(')').unwrap()];
        let (x, y) = inner.split_once(',').unwrap();
        (x.trim().parse().unwrap(), y.trim().parse().unwrap())
    }
}
