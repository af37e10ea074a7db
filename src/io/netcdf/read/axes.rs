//! Which dimension is time, latitude, longitude: recognised from the coordinate variables
//! (`axis`, `standard_name`, `units`), then permuted to the canonical orientation.

use std::path::Path;

use super::unpack::attr_string;
use crate::grid::LatLon;
use crate::io::netcdf::NetcdfError;

/// Which role a dimension plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Axis {
    Time,
    Lat,
    Lon,
    /// A length-1 dimension such as a depth level.
    Singleton,
}

/// Recognises a coordinate variable as time, latitude or longitude.
pub(super) fn classify(coord: &netcdf::Variable) -> Option<Axis> {
    let std_name = attr_string(coord, "standard_name").unwrap_or_default();
    let axis = attr_string(coord, "axis")
        .unwrap_or_default()
        .to_uppercase();
    let units = attr_string(coord, "units")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = coord.name().to_ascii_lowercase();
    let lat_units = [
        "degrees_north",
        "degree_north",
        "degree_n",
        "degrees_n",
        "degreen",
        "degreesn",
    ];
    let lon_units = [
        "degrees_east",
        "degree_east",
        "degree_e",
        "degrees_e",
        "degreee",
        "degreese",
    ];
    if std_name == "time" || axis == "T" || units.contains(" since ") {
        Some(Axis::Time)
    } else if std_name == "latitude" || axis == "Y" || lat_units.contains(&units.as_str()) {
        Some(Axis::Lat)
    } else if std_name == "longitude" || axis == "X" || lon_units.contains(&units.as_str()) {
        Some(Axis::Lon)
    } else {
        match name.as_str() {
            "lat" | "latitude" => Some(Axis::Lat),
            "lon" | "longitude" => Some(Axis::Lon),
            _ => None,
        }
    }
}

/// Builds the canonical grid and the permutations from canonical to raw indices.
pub(super) fn canonical_axes(
    path: &Path,
    lat_name: &str,
    lat: &[f64],
    lon_name: &str,
    lon: &[f64],
) -> Result<(LatLon, Vec<usize>, Vec<usize>), NetcdfError> {
    let not_mono = |c: &str| NetcdfError::NotMonotonic {
        path: path.to_path_buf(),
        coordinate: c.to_string(),
    };
    if !strictly_monotonic(lat) || lat.iter().any(|v| !(-90.0..=90.0).contains(v)) {
        return Err(not_mono(lat_name));
    }
    if !strictly_monotonic(lon) {
        return Err(not_mono(lon_name));
    }
    // Latitude north to south.
    let mut lat_perm: Vec<usize> = (0..lat.len()).collect();
    lat_perm.sort_by(|&a, &b| lat[b].total_cmp(&lat[a]));

    // Longitude: normalise to [-180, 180), drop a duplicated cyclic column, order ascending.
    let norm: Vec<f64> = lon
        .iter()
        .map(|&l| (l + 180.0).rem_euclid(360.0) - 180.0)
        .collect();
    let mut lon_perm: Vec<usize> = (0..lon.len()).collect();
    lon_perm.sort_by(|&a, &b| norm[a].total_cmp(&norm[b]).then(a.cmp(&b)));
    lon_perm.dedup_by(|b, a| (norm[*a] - norm[*b]).abs() < 1e-6);
    let mut out: Vec<f64> = lon_perm.iter().map(|&i| norm[i]).collect();
    // A regional grid crossing the dateline keeps one contiguous range: start after the largest gap.
    if out.len() > 1 {
        let n = out.len();
        let (gap_at, gap) = (0..n)
            .map(|i| {
                let next = if i + 1 < n {
                    out[i + 1]
                } else {
                    out[0] + 360.0
                };
                (i, next - out[i])
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty");
        let step = (out[n - 1] - out[0]) / (n - 1) as f64;
        if gap_at != n - 1 && gap > 1.5 * step {
            lon_perm.rotate_left(gap_at + 1);
            out.rotate_left(gap_at + 1);
            for v in out.iter_mut().skip(n - gap_at - 1) {
                *v += 360.0;
            }
        }
    }
    let grid = LatLon {
        lat: lat_perm.iter().map(|&i| lat[i]).collect(),
        lon: out,
    };
    Ok((grid, lat_perm, lon_perm))
}

pub(super) fn strictly_monotonic(v: &[f64]) -> bool {
    if v.iter().any(|x| !x.is_finite()) {
        return false;
    }
    v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0])
}
