use super::*;

/// How a fixture file stores its SST.
#[derive(Clone, Copy)]
enum Storage {
    /// float32 degC with `_FillValue`.
    FloatC,
    /// float32 Kelvin with `missing_value` only.
    KelvinMissingOnly,
    /// int16 packed degC, `_FillValue = -32768`, scale 0.01, offset 10.
    PackedI16,
}

/// Writes a 3-month fixture: 3 lats x 4 lons, value = 10 + lat_index + 0.1 * lon_index
/// in canonical order (north row first, lon ascending from -180), cell (row 0, lon col 1) land.
fn fixture(path: &Path, storage: Storage, lat_ascending: bool, lon_0_360: bool, first_month: u32) {
    let mut f = netcdf::create(path).unwrap();
    f.add_dimension("time", 3).unwrap();
    f.add_dimension("lat", 3).unwrap();
    f.add_dimension("lon", 4).unwrap();
    let canon_lat = [20.0f64, 0.0, -20.0];
    let canon_lon = [-135.0f64, -45.0, 45.0, 135.0];
    let lat: Vec<f64> = if lat_ascending {
        canon_lat.iter().rev().copied().collect()
    } else {
        canon_lat.to_vec()
    };
    let lon: Vec<f64> = if lon_0_360 {
        vec![45.0, 135.0, 225.0, 315.0]
    } else {
        canon_lon.to_vec()
    };
    let mut v = f.add_variable::<f64>("lat", &["lat"]).unwrap();
    v.put_attribute("units", "degrees_north").unwrap();
    v.put_values(&lat, ..).unwrap();
    let mut v = f.add_variable::<f64>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(&lon, ..).unwrap();
    let mut v = f.add_variable::<f64>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 2000-01-01").unwrap();
    v.put_attribute("calendar", "360_day").unwrap();
    let times: Vec<f64> = (0..3)
        .map(|k| ((first_month - 1 + k) * 30 + 14) as f64)
        .collect();
    v.put_values(&times, ..).unwrap();
    // Canonical value of a file (lat index i, lon index j).
    let value = |i: usize, j: usize, t: usize| -> Option<f64> {
        let ci = if lat_ascending { 2 - i } else { i };
        let cj = if lon_0_360 { [2, 3, 0, 1][j] } else { j };
        if ci == 0 && cj == 1 {
            None
        } else {
            Some(10.0 + ci as f64 + 0.1 * cj as f64 + t as f64)
        }
    };
    let mut vals = Vec::new();
    for t in 0..3 {
        for i in 0..3 {
            for j in 0..4 {
                vals.push(value(i, j, t));
            }
        }
    }
    match storage {
        Storage::FloatC => {
            let mut v = f
                .add_variable::<f32>("sst", &["time", "lat", "lon"])
                .unwrap();
            v.set_fill_value(-999.0f32).unwrap();
            v.put_attribute("units", "degC").unwrap();
            v.put_attribute("standard_name", "sea_surface_temperature")
                .unwrap();
            let data: Vec<f32> = vals.iter().map(|x| x.unwrap_or(-999.0) as f32).collect();
            v.put_values(&data, ..).unwrap();
        }
        Storage::KelvinMissingOnly => {
            let mut v = f
                .add_variable::<f32>("tos", &["time", "lat", "lon"])
                .unwrap();
            v.put_attribute("units", "K").unwrap();
            v.put_attribute("missing_value", 1e20f32).unwrap();
            let data: Vec<f32> = vals
                .iter()
                .map(|x| x.map_or(1e20, |c| (c + 273.15) as f32))
                .collect();
            v.put_values(&data, ..).unwrap();
        }
        Storage::PackedI16 => {
            let mut v = f
                .add_variable::<i16>("analysed", &["time", "lat", "lon"])
                .unwrap();
            v.set_fill_value(-32768i16).unwrap();
            v.put_attribute("scale_factor", 0.01f32).unwrap();
            v.put_attribute("add_offset", 10.0f32).unwrap();
            v.put_attribute("units", "Celsius").unwrap();
            v.put_attribute("standard_name", "sea_surface_temperature")
                .unwrap();
            let data: Vec<i16> = vals
                .iter()
                .map(|x| x.map_or(-32768, |c| ((c - 10.0) / 0.01).round() as i16))
                .collect();
            v.put_values(&data, ..).unwrap();
        }
    }
}

fn check_canonical(c: &Cube, tol: f32) {
    assert_eq!(c.grid.lat, vec![20.0, 0.0, -20.0]);
    assert_eq!(c.grid.lon, vec![-135.0, -45.0, 45.0, 135.0]);
    assert_eq!(c.len(), 3);
    for t in 0..3 {
        let s = c.step(t);
        for i in 0..3 {
            for j in 0..4 {
                let v = s[i * 4 + j];
                if i == 0 && j == 1 {
                    assert!(v.is_nan(), "land cell must be NaN, got {v}");
                } else {
                    let want = 10.0 + i as f32 + 0.1 * j as f32 + t as f32;
                    assert!((v - want).abs() < tol, "t{t} ({i},{j}): {v} vs {want}");
                }
            }
        }
    }
}

#[test]
fn float_celsius_descending_lat() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.nc");
    fixture(&p, Storage::FloatC, false, false, 1);
    let c = read_cube(&[p], None).unwrap();
    assert_eq!(c.start, Period::month(2000, 1));
    check_canonical(&c, 1e-5);
}

#[test]
fn kelvin_missing_value_only_lat_ascending_lon_0_360() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("k.nc");
    fixture(&p, Storage::KelvinMissingOnly, true, true, 1);
    let c = read_cube(&[p], None).unwrap();
    assert_eq!(c.variable, "tos");
    check_canonical(&c, 1e-3);
}

#[test]
fn packed_int16_with_scale_and_offset() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("p.nc");
    fixture(&p, Storage::PackedI16, true, false, 1);
    let c = read_cube(&[p], None).unwrap();
    check_canonical(&c, 0.006);
}

#[test]
fn files_concatenate_in_time_order_and_gaps_and_duplicates_fail() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.nc");
    let b = d.path().join("b.nc");
    let c = d.path().join("c.nc");
    fixture(&a, Storage::FloatC, false, false, 1);
    fixture(&b, Storage::FloatC, false, false, 4);
    fixture(&c, Storage::FloatC, false, false, 8);
    let cube = read_cube(&[b.clone(), a.clone()], None).unwrap();
    assert_eq!(cube.start, Period::month(2000, 1));
    assert_eq!(cube.len(), 6);
    assert_eq!(cube.step(3)[4], 11.0); // April = first step of b
    let e = read_cube(&[a.clone(), c.clone()], None).unwrap_err();
    assert!(matches!(e, NetcdfError::Gap { .. }), "{e}");
    assert!(e.to_string().contains("2000-04..2000-07"), "{e}");
    let e = read_cube(&[a.clone(), a.clone()], None).unwrap_err();
    assert!(matches!(e, NetcdfError::DuplicateTime { .. }), "{e}");
}

#[test]
fn grids_must_match() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.nc");
    let b = d.path().join("b.nc");
    fixture(&a, Storage::FloatC, false, false, 1);
    // Same values but on lon 45..315: a different set of cell centres after normalising? No:
    // the same centres. Make a real difference by writing 2 lats only.
    let mut f = netcdf::create(&b).unwrap();
    f.add_dimension("time", 1).unwrap();
    f.add_dimension("lat", 2).unwrap();
    f.add_dimension("lon", 4).unwrap();
    let mut v = f.add_variable::<f64>("lat", &["lat"]).unwrap();
    v.put_attribute("units", "degrees_north").unwrap();
    v.put_values(&[10.0, -10.0], ..).unwrap();
    let mut v = f.add_variable::<f64>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(&[-135.0, -45.0, 45.0, 135.0], ..).unwrap();
    let mut v = f.add_variable::<f64>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 2000-01-01").unwrap();
    v.put_attribute("calendar", "360_day").unwrap();
    v.put_values(&[104.0], ..).unwrap();
    let mut v = f
        .add_variable::<f32>("sst", &["time", "lat", "lon"])
        .unwrap();
    v.put_attribute("units", "degC").unwrap();
    v.put_values(&[1.0f32; 8], ..).unwrap();
    drop(f);
    let e = read_cube(&[a, b.clone()], None).unwrap_err();
    match e {
        NetcdfError::GridMismatch { path, .. } => assert_eq!(path, b),
        other => panic!("{other}"),
    }
}

#[test]
fn missing_and_non_netcdf_files_are_named() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("nope.nc");
    let e = read_cube(std::slice::from_ref(&p), None).unwrap_err();
    assert!(e.is_missing_input() && e.to_string().contains("nope.nc"));
    std::fs::write(&p, b"this is not netcdf").unwrap();
    let e = read_cube(std::slice::from_ref(&p), None).unwrap_err();
    assert!(matches!(e, NetcdfError::Open { .. }) && e.to_string().contains("nope.nc"));
}

#[test]
fn regional_grid_across_dateline_stays_contiguous() {
    let lon = [160.0, 170.0, 180.0, 190.0, 200.0];
    let (g, _, perm) = canonical_axes(Path::new("x"), "lat", &[1.0, 0.0], "lon", &lon).unwrap();
    assert_eq!(g.lon, vec![160.0, 170.0, 180.0, 190.0, 200.0]);
    assert_eq!(perm, vec![0, 1, 2, 3, 4]);
    let e = canonical_axes(Path::new("x"), "lat", &[0.0, 1.0, 0.5], "lon", &lon);
    assert!(matches!(e, Err(NetcdfError::NotMonotonic { .. })));
}

#[test]
fn implausible_values_are_masked_and_all_implausible_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("hot.nc");
    fixture(&p, Storage::FloatC, false, false, 1);
    {
        let mut f = netcdf::append(&p).unwrap();
        let mut v = f.variable_mut("sst").unwrap();
        // Canonical (row 1, col 2) of step 0 and (row 2, col 0) of step 2.
        v.put_values(&[99.0f32], [0, 1, 2]).unwrap();
        v.put_values(&[-40.0f32], [2, 2, 0]).unwrap();
    }
    let c = read_cube(std::slice::from_ref(&p), None).unwrap();
    assert!(c.step(0)[4 + 2].is_nan());
    assert!(c.step(2)[8].is_nan());
    assert!((c.step(1)[4 + 2] - 12.2).abs() < 1e-5);
    assert_eq!(c.values.iter().filter(|v| v.is_nan()).count(), 3 + 2);

    // Kelvin data labelled degC: every value is implausible, the units are named.
    let k = d.path().join("kelvin-as-degc.nc");
    fixture(&k, Storage::KelvinMissingOnly, false, false, 1);
    {
        let mut f = netcdf::append(&k).unwrap();
        let mut v = f.variable_mut("tos").unwrap();
        v.put_attribute("units", "degC").unwrap();
    }
    let e = read_cube(std::slice::from_ref(&k), None).unwrap_err();
    assert!(
        matches!(e, NetcdfError::Implausible { count: 33, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("kelvin-as-degc.nc") && msg.contains("\"degC\""),
        "{msg}"
    );
}

/// Writes a Kaplan-like anomaly file: `name(time, lat, lon)` float32 with float32
/// coordinates, latitudes south to north, longitudes 182.5 and 287.5 (east of the dateline
/// only), no standard_name, `_FillValue = missing_value = -9.96921e36`, two months from
/// 1997-12 at the start of the month; the last cell of each step is fill.
fn anomaly_fixture(path: &Path, name: &str, units: &str, long_name: &str, values: [f32; 3]) {
    let mut f = netcdf::create(path).unwrap();
    f.add_dimension("time", 2).unwrap();
    f.add_dimension("lat", 2).unwrap();
    f.add_dimension("lon", 2).unwrap();
    let mut v = f.add_variable::<f32>("lat", &["lat"]).unwrap();
    v.put_attribute("units", "degrees_north").unwrap();
    v.put_values(&[-2.5f32, 2.5], ..).unwrap();
    let mut v = f.add_variable::<f32>("lon", &["lon"]).unwrap();
    v.put_attribute("units", "degrees_east").unwrap();
    v.put_values(&[182.5f32, 287.5], ..).unwrap();
    let mut v = f.add_variable::<f64>("time", &["time"]).unwrap();
    v.put_attribute("units", "days since 1800-01-01 00:00:00")
        .unwrap();
    v.put_attribute("calendar", "standard").unwrap();
    v.put_values(&[72_287.0, 72_318.0], ..).unwrap(); // 1997-12-01, 1998-01-01
    let fill = -9.969_21e36f32;
    let mut v = f
        .add_variable::<f32>(name, &["time", "lat", "lon"])
        .unwrap();
    v.set_fill_value(fill).unwrap();
    v.put_attribute("missing_value", fill).unwrap();
    v.put_attribute("units", units).unwrap();
    v.put_attribute("long_name", long_name).unwrap();
    let [a, b, c] = values;
    v.put_values(&[a, b, c, fill, c, b, a, fill], ..).unwrap();
}

#[test]
fn anomalies_keep_values_below_the_sst_range_and_kelvin_anomalies_get_no_offset() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("kaplan.nc");
    anomaly_fixture(
        &p,
        "sst_anom",
        "degC",
        "Monthly SST anomaly (Kaplan Extended SST V2)",
        [-3.3, 6.4, 0.0],
    );
    let c = read_cube(std::slice::from_ref(&p), Some("sst_anom")).unwrap();
    assert_eq!(c.start, Period::month(1997, 12));
    // North to south, -180..180.
    assert_eq!(c.grid.lat, vec![2.5, -2.5]);
    assert_eq!(c.grid.lon, vec![-177.5, -72.5]);
    // File order (lat -2.5: -3.3, 6.4; lat 2.5: 0.0, fill), canonical rows swapped.
    assert_eq!(c.step(0)[2..], [-3.3, 6.4]);
    assert_eq!(c.step(0)[0], 0.0);
    assert!(c.step(0)[1].is_nan());
    assert_eq!(c.step(1)[0], -3.3);
    assert_eq!(c.step(1)[2..], [0.0, 6.4]);

    // Kelvin anomalies are Celsius anomalies.
    let k = d.path().join("k.nc");
    anomaly_fixture(&k, "ssta", "K", "SST anomaly", [-3.3, 1.5, 0.5]);
    let c = read_cube(std::slice::from_ref(&k), Some("ssta")).unwrap();
    assert_eq!(c.step(0)[2..], [-3.3, 1.5]);

    // Absolute temperatures under an anomaly's name: every value implausible, and the
    // message names the anomaly range.
    let t = d.path().join("t.nc");
    anomaly_fixture(&t, "sst_anom", "degC", "anomaly", [25.0, 26.0, 27.0]);
    let e = read_cube(std::slice::from_ref(&t), Some("sst_anom")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("plausible SST anomaly range -20..20 degC"),
        "{msg}"
    );

    // The same -3.3 in an SST variable is masked as implausible.
    let s = d.path().join("s.nc");
    anomaly_fixture(
        &s,
        "sst",
        "degC",
        "sea surface temperature",
        [-3.3, 6.4, 0.0],
    );
    let c = read_cube(std::slice::from_ref(&s), None).unwrap();
    assert!(c.step(0)[2].is_nan());
    assert_eq!(c.step(0)[3], 6.4);
}
