//! The GeoTIFF is a Cloud-Optimized GeoTIFF at every size (issue 14): GDAL's own validator
//! (`validate_cloud_optimized_geotiff.py`, Debian `python3-gdal`) accepts a 0.25-degree
//! global grid (1440x720, tiled, with overviews) and rejects the striped layout sstcast wrote
//! before, so the check is known to discriminate. The 2-degree output of a real run is
//! validated in `forecast_ersst.rs`.

mod common;

use std::path::Path;

use common::{gdal_corner, gdalinfo, validate_cog};
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::{Dataset, DriverManager, Metadata};
use sstcast::io::geotiff::{write_geotiff, TILE};

const NX: usize = 1440;
const NY: usize = 720;
const BANDS: usize = 12;

/// Quarter-degree cell centres, north to south and from -180.
fn quarter_degree() -> (Vec<f64>, Vec<f64>) {
    let lat = (0..NY).map(|i| 89.875 - 0.25 * i as f64).collect();
    let lon = (0..NX).map(|j| -179.875 + 0.25 * j as f64).collect();
    (lat, lon)
}

/// A smooth field with land (NaN) in a block and in every 7th cell of row 11, so that some
/// 2x2 blocks of the first overview mix land and sea.
fn field(b: usize) -> Vec<f32> {
    (0..NX * NY)
        .map(|k| {
            let (i, j) = (k / NX, k % NX);
            let land = (300..340).contains(&i) && (100..400).contains(&j) || i == 11 && j % 7 == 0;
            if land {
                f32::NAN
            } else {
                28.0 - 0.04 * i as f32 + 0.001 * j as f32 + 0.1 * b as f32
            }
        })
        .collect()
}

fn names() -> Vec<String> {
    (1..=BANDS)
        .map(|l| {
            format!(
                "2018-{l:02} (lead {l} month{})",
                if l == 1 { "" } else { "s" }
            )
        })
        .collect()
}

#[test]
fn quarter_degree_grid_is_a_valid_cog_with_overviews() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sst_forecast_2018.tif");
    let (lat, lon) = quarter_degree();
    let bands: Vec<Vec<f32>> = (0..BANDS).map(field).collect();
    let meta = vec![("units".to_string(), "degC".to_string())];
    let t0 = std::time::Instant::now();
    write_geotiff(&path, &lat, &lon, &bands, &names(), &meta).unwrap();
    eprintln!(
        "1440x720x12 COG written in {:.2} s, {} bytes",
        t0.elapsed().as_secs_f64(),
        std::fs::metadata(&path).unwrap().len()
    );
    let report = validate_cog(&path).unwrap_or_else(|r| panic!("not a valid COG:\n{r}"));
    eprintln!("{report}");

    let ds = Dataset::open(&path).unwrap();
    assert_eq!(ds.raster_size(), (NX, NY));
    assert_eq!(ds.raster_count(), BANDS);
    assert_eq!(
        ds.geo_transform().unwrap(),
        [-180.0, 0.25, 0.0, 90.0, 0.0, -0.25]
    );
    assert_eq!(
        ds.metadata_item("LAYOUT", "IMAGE_STRUCTURE").as_deref(),
        Some("COG")
    );
    assert_eq!(
        ds.metadata_item("COMPRESSION", "IMAGE_STRUCTURE")
            .as_deref(),
        Some("DEFLATE")
    );
    assert_eq!(ds.metadata_item("units", "").as_deref(), Some("degC"));
    for (b, name) in names().iter().enumerate() {
        let band = ds.rasterband(b + 1).unwrap();
        assert_eq!(band.block_size(), (TILE, TILE), "tiled");
        assert_eq!(&band.description().unwrap(), name);
        assert!(band.no_data_value().unwrap().is_nan());
        // Overviews halve until one tile holds the grid: 720x360, 360x180, 180x90.
        assert_eq!(band.overview_count().unwrap(), 3, "band {}", b + 1);
        let last = band.overview(2).unwrap();
        assert_eq!(last.size(), (180, 90));
        let data = band.read_band_as::<f32>().unwrap();
        let same = data
            .data()
            .iter()
            .zip(&bands[b])
            .all(|(g, w)| g == w || g.is_nan() && w.is_nan());
        assert!(same, "band {} reads back bit for bit", b + 1);
    }
    // The first overview averages each 2x2 block, leaving NaN cells out: the block at rows
    // 10-11, columns 0-1 holds one land cell (11, 0).
    let ov = ds.rasterband(1).unwrap().overview(0).unwrap();
    let px = ov
        .read_as::<f32>((0, 5), (1, 1), (1, 1), None)
        .unwrap()
        .data()[0];
    let f = field(0);
    let want = (f[10 * NX] + f[10 * NX + 1] + f[11 * NX + 1]) / 3.0;
    assert!(
        (px - want).abs() < 1e-4,
        "overview {px}, mean of sea {want}"
    );
    let land = ov
        .read_as::<f32>((100, 160), (1, 1), (1, 1), None)
        .unwrap()
        .data()[0];
    assert!(land.is_nan(), "all-land block stays nodata: {land}");

    // gdalinfo: the whole globe, edges on whole degrees.
    let info = gdalinfo(&path);
    assert!(info.contains("LAYOUT=COG"), "{info}");
    assert!(
        info.contains("Overviews: 720x360, 360x180, 180x90"),
        "{info}"
    );
    assert_eq!(gdal_corner(&info, "Upper Left"), (-180.0, 90.0));
    assert_eq!(gdal_corner(&info, "Lower Right"), (180.0, -90.0));
}

/// The layout sstcast wrote before (strips, no overviews) fails the validator at this size:
/// the test above would catch a return to it.
#[test]
fn validator_rejects_a_striped_quarter_degree_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("striped.tif");
    write_striped(&path);
    let report = validate_cog(&path).expect_err("a striped 1440x720 file is not a COG");
    assert!(
        report.contains("NOT a valid cloud optimized GeoTIFF"),
        "{report}"
    );
    assert!(report.contains("not tiled"), "{report}");
}

fn write_striped(path: &Path) {
    let mut options = RasterCreationOptions::new();
    for (k, v) in [("COMPRESS", "DEFLATE"), ("PREDICTOR", "3")] {
        options.add_name_value(k, v).unwrap();
    }
    let mut ds = DriverManager::get_driver_by_name("GTiff")
        .unwrap()
        .create_with_band_type_with_options::<f32, _>(path, NX, NY, 1, &options)
        .unwrap();
    ds.set_geo_transform(&[-180.0, 0.25, 0.0, 90.0, 0.0, -0.25])
        .unwrap();
    let mut band = ds.rasterband(1).unwrap();
    let mut buffer = Buffer::new((NX, NY), field(0));
    band.write((0, 0), (NX, NY), &mut buffer).unwrap();
    ds.close().unwrap();
}

/// Float32 coordinates at 1/1.2 degree (steps 0.8333282 and 0.8333359, as real products
/// store them) over a latitude band: written as a COG whose georeferencing is the grid the
/// producer meant, step 1/1.2 and edges on whole degrees.
#[test]
fn float32_coordinates_are_georeferenced_on_the_intended_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("band.tif");
    let lat: Vec<f64> = (0..36)
        .map(|i| (15.0 - (i as f64 + 0.5) / 1.2) as f32 as f64)
        .collect();
    let lon: Vec<f64> = (0..432)
        .map(|j| (-180.0 + (j as f64 + 0.5) / 1.2) as f32 as f64)
        .collect();
    let band: Vec<f32> = (0..36 * 432)
        .map(|k| 20.0 + (k % 432) as f32 * 0.01)
        .collect();
    write_geotiff(&path, &lat, &lon, &[band], &names()[..1], &[]).unwrap();
    validate_cog(&path).unwrap_or_else(|r| panic!("not a valid COG:\n{r}"));
    let ds = Dataset::open(&path).unwrap();
    let gt = ds.geo_transform().unwrap();
    assert_eq!(gt, [-180.0, 1.0 / 1.2, 0.0, 15.0, 0.0, -1.0 / 1.2]);
    let info = gdalinfo(&path);
    assert_eq!(gdal_corner(&info, "Upper Left"), (-180.0, 15.0));
    assert_eq!(gdal_corner(&info, "Lower Right"), (180.0, -15.0));
}
