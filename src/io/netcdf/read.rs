//! The CF-aware SST reader: one or many files in, one canonical [`Cube`] out.
//!
//! What it handles, and why each matters for real archives:
//! - **Variable discovery** by `standard_name = sea_surface_temperature` (CF files), falling
//!   back to the usual names (`sst`, `tos`, `analysed_sst`) for files such as the PSL ERSST
//!   aggregation, which carries no standard name.
//! - **Dimensions by meaning, not by name**: time, latitude and longitude are recognised from
//!   their coordinate variables (`axis`, `standard_name`, `units`); extra dimensions of length
//!   one (OISST's `zlev`) are allowed; any order of dimensions is accepted.
//! - **Packing and missing data** per CF 8.1 and the NetCDF user guide: `_FillValue` and
//!   `missing_value` (both may be present, may differ, may be NaN, may be lists), the
//!   NetCDF default fill when no `_FillValue` is given, `valid_range`/`valid_min`/`valid_max`
//!   compared in packed units, then `scale_factor`/`add_offset`.
//! - **Units**: Kelvin is converted to degrees Celsius; anything else that is not a
//!   temperature in Celsius is refused rather than guessed.
//! - **Orientation**: latitudes north to south, longitudes -180..180 (see [`crate::grid`]).
//! - **Time** in any CF calendar (see [`crate::time`]), reduced to calendar months; files are
//!   ordered by time, and duplicated or missing months are errors that name the files.
//! - **Physically implausible values**: after unpacking and unit conversion, a value outside
//!   [`PLAUSIBLE_SST`] (-3..45 degC) cannot be a sea-surface temperature (sea water freezes
//!   near -1.9 degC; the warmest open ocean stays below 35 degC). Such values are counted,
//!   reported with a warning naming the file and variable, and masked as missing, never
//!   silently used. When *every* valid value is implausible the units are almost certainly
//!   wrong (Kelvin labelled degC), and the read fails with [`NetcdfError::Implausible`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netcdf::AttributeValue;

use super::NetcdfError;
use crate::grid::{Cube, LatLon};
use crate::time::{Calendar, Frequency, Period, TimeAxis};

/// Names tried, in order, when no variable carries the SST standard name.
const FALLBACK_NAMES: [&str; 5] = [
    "sst",
    "SST",
    "tos",
    "analysed_sst",
    "sea_surface_temperature",
];

/// Plausible sea-surface temperatures, degC, after unpacking and unit conversion.
pub const PLAUSIBLE_SST: std::ops::RangeInclusive<f32> = -3.0..=45.0;

/// Implausible values met in one file (masked as missing).
#[derive(Debug, Clone, Copy)]
struct Implausible {
    count: usize,
    min: f32,
    max: f32,
}

impl Default for Implausible {
    fn default() -> Self {
        Self {
            count: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
        }
    }
}

impl Implausible {
    /// `v`, or NaN (counted) when it is a number outside [`PLAUSIBLE_SST`].
    fn screen(&mut self, v: f32) -> f32 {
        if v.is_nan() || PLAUSIBLE_SST.contains(&v) {
            return v;
        }
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        f32::NAN
    }

    fn merge(&mut self, o: &Implausible) {
        self.count += o.count;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }
}

/// One file's contribution before concatenation.
struct Part {
    path: PathBuf,
    variable: String,
    grid: LatLon,
    /// Period of each step, in file order.
    periods: Vec<Period>,
    /// `[t][lat][lon]` canonical, degC.
    values: Vec<f32>,
    /// Values masked as physically implausible.
    implausible: Implausible,
    /// The variable's `units` attribute, for messages.
    units: String,
}

/// Reads `paths` (already expanded, any order) into one monthly cube, sorted by time.
///
/// `variable` names the SST variable; `None` discovers it (see the module docs).
pub fn read_cube(paths: &[PathBuf], variable: Option<&str>) -> Result<Cube, NetcdfError> {
    let mut parts = Vec::with_capacity(paths.len());
    for path in paths {
        let part = read_part(path, variable)?;
        if let Some(first) = parts.first() {
            let first: &Part = first;
            if !first.grid.same_as(&part.grid) {
                return Err(NetcdfError::GridMismatch {
                    first: first.path.clone(),
                    path: path.clone(),
                });
            }
        }
        parts.push(part);
    }
    concatenate(parts)
}

fn concatenate(parts: Vec<Part>) -> Result<Cube, NetcdfError> {
    let first = parts.first().expect("at least one input file");
    let grid = first.grid.clone();
    let variable = first.variable.clone();
    let n = grid.ncells();
    // period -> (part, step)
    let mut index: BTreeMap<Period, (usize, usize)> = BTreeMap::new();
    for (pi, part) in parts.iter().enumerate() {
        for (t, &p) in part.periods.iter().enumerate() {
            if let Some(&(other, _)) = index.get(&p) {
                return Err(NetcdfError::DuplicateTime {
                    period: p.label(Frequency::Monthly),
                    first: parts[other].path.clone(),
                    second: part.path.clone(),
                });
            }
            index.insert(p, (pi, t));
        }
    }
    let mut prev: Option<(Period, usize)> = None;
    for (&p, &(pi, _)) in &index {
        if let Some((q, qi)) = prev {
            if p.0 != q.0 + 1 {
                return Err(NetcdfError::Gap {
                    from: Period(q.0 + 1).label(Frequency::Monthly),
                    to: Period(p.0 - 1).label(Frequency::Monthly),
                    before: parts[qi].path.clone(),
                    after: parts[pi].path.clone(),
                });
            }
        }
        prev = Some((p, pi));
    }
    let start = *index.keys().next().expect("files have time steps");
    let mut values = Vec::with_capacity(index.len() * n);
    for &(pi, t) in index.values() {
        values.extend_from_slice(&parts[pi].values[t * n..(t + 1) * n]);
    }
    if values.iter().all(|v| v.is_nan()) {
        let mut bad = Implausible::default();
        for p in &parts {
            bad.merge(&p.implausible);
        }
        if bad.count > 0 {
            return Err(NetcdfError::Implausible {
                path: first.path.clone(),
                variable,
                count: bad.count,
                min: bad.min,
                max: bad.max,
                units: first.units.clone(),
            });
        }
        return Err(NetcdfError::AllMissing {
            path: first.path.clone(),
            variable,
        });
    }
    Ok(Cube {
        grid,
        freq: Frequency::Monthly,
        start,
        values,
        variable,
    })
}

/// Which role a dimension plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Time,
    Lat,
    Lon,
    /// A length-1 dimension such as a depth level.
    Singleton,
}

/// Opens a NetCDF file for reading: `Missing` when it does not exist, `Open` when it is not
/// readable NetCDF.
pub(super) fn open(path: &Path) -> Result<netcdf::File, NetcdfError> {
    if !path.exists() {
        return Err(NetcdfError::Missing {
            path: path.to_path_buf(),
        });
    }
    netcdf::open(path).map_err(|e| NetcdfError::Open {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn read_part(path: &Path, variable: Option<&str>) -> Result<Part, NetcdfError> {
    let file = open(path)?;
    let var = find_variable(path, &file, variable)?;
    let vname = var.name();
    let dims: Vec<(String, usize)> = var
        .dimensions()
        .iter()
        .map(|d| (d.name(), d.len()))
        .collect();
    let dim_list = dims
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let dim_err = |message: String| NetcdfError::Dimensions {
        path: path.to_path_buf(),
        variable: vname.clone(),
        dims: dim_list.clone(),
        message,
    };

    // Classify each dimension through its coordinate variable.
    let mut axes = Vec::with_capacity(dims.len());
    for (name, len) in &dims {
        let axis = match file.variable(name) {
            Some(coord) => classify(&coord),
            None => None,
        };
        let axis = match axis {
            Some(a) => a,
            None if *len == 1 => Axis::Singleton,
            None => {
                return Err(dim_err(format!(
                    "dimension {name:?} (length {len}) is not recognisable as time, latitude or longitude (no coordinate variable with axis, standard_name or units saying so)"
                )))
            }
        };
        axes.push(axis);
    }
    let find = |a: Axis| axes.iter().position(|&x| x == a);
    let (ti, yi, xi) = match (find(Axis::Time), find(Axis::Lat), find(Axis::Lon)) {
        (Some(t), Some(y), Some(x)) => (t, y, x),
        (None, _, _) => return Err(dim_err("no time dimension with a time coordinate".into())),
        (_, None, _) => return Err(dim_err("no latitude dimension".into())),
        (_, _, None) => return Err(dim_err("no longitude dimension".into())),
    };
    if axes.iter().filter(|&&a| a != Axis::Singleton).count() != 3 {
        return Err(dim_err(
            "expected exactly one time, one latitude and one longitude dimension".into(),
        ));
    }

    let coord_values = |name: &str| -> Result<Vec<f64>, NetcdfError> {
        let v = file.variable(name).expect("classified coordinate exists");
        v.get_values::<f64, _>(..).map_err(|e| NetcdfError::Read {
            path: path.to_path_buf(),
            what: format!("coordinate {name:?}"),
            message: e.to_string(),
        })
    };
    let lat_name = &dims[yi].0;
    let lon_name = &dims[xi].0;
    let time_name = &dims[ti].0;
    let lat_raw = coord_values(lat_name)?;
    let lon_raw = coord_values(lon_name)?;
    let (grid, lat_perm, lon_perm) = canonical_axes(path, lat_name, &lat_raw, lon_name, &lon_raw)?;

    // Time.
    let tvar = file
        .variable(time_name)
        .expect("classified coordinate exists");
    let time_err = |source| NetcdfError::Time {
        path: path.to_path_buf(),
        coordinate: time_name.clone(),
        source,
    };
    let tunits = attr_string(&tvar, "units").ok_or_else(|| {
        time_err(crate::time::TimeError::BadUnits(
            "(no units attribute)".into(),
        ))
    })?;
    let calendar =
        Calendar::parse(&attr_string(&tvar, "calendar").unwrap_or_default()).map_err(time_err)?;
    let axis = TimeAxis::parse(&tunits, calendar).map_err(time_err)?;
    let tvals = coord_values(time_name)?;
    let mut periods = Vec::with_capacity(tvals.len());
    for &tv in &tvals {
        let d = axis.date(tv).map_err(time_err)?;
        periods.push(Period::month(d.year, d.month));
    }

    // Data, with missing values and packing.
    let raw = var
        .get_values::<f64, _>(..)
        .map_err(|e| NetcdfError::Read {
            path: path.to_path_buf(),
            what: format!("variable {vname:?}"),
            message: e.to_string(),
        })?;
    let unpack = Unpacker::from_variable(path, &var)?;

    // Strides of the raw (C-order) array.
    let mut strides = vec![1usize; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * dims[k + 1].1;
    }
    let (nt, nlat, nlon) = (dims[ti].1, grid.nlat(), grid.nlon());
    let mut values = Vec::with_capacity(nt * nlat * nlon);
    let mut implausible = Implausible::default();
    for t in 0..nt {
        for &la in &lat_perm {
            for &lo in &lon_perm {
                let off = t * strides[ti] + la * strides[yi] + lo * strides[xi];
                values.push(implausible.screen(unpack.value(raw[off])));
            }
        }
    }
    if implausible.count > 0 {
        tracing::warn!(
            "{}: variable {:?}: {} value(s) outside the plausible SST range {}..{} degC after unit conversion (min {}, max {}) masked as missing",
            path.display(),
            vname,
            implausible.count,
            PLAUSIBLE_SST.start(),
            PLAUSIBLE_SST.end(),
            implausible.min,
            implausible.max
        );
    }
    Ok(Part {
        path: path.to_path_buf(),
        units: attr_string(&var, "units").unwrap_or_default(),
        variable: vname,
        grid,
        periods,
        values,
        implausible,
    })
}

fn find_variable<'f>(
    path: &Path,
    file: &'f netcdf::File,
    wanted: Option<&str>,
) -> Result<netcdf::Variable<'f>, NetcdfError> {
    if let Some(name) = wanted {
        // netcdf 0.12 panics on a name with an interior NUL (possible from YAML: "sst\0");
        // no NetCDF name can contain one, so it names no variable.
        let lookup = if name.contains('\0') {
            None
        } else {
            file.variable(name)
        };
        return lookup.ok_or_else(|| NetcdfError::NoSuchVariable {
            path: path.to_path_buf(),
            variable: name.to_string(),
            available: file
                .variables()
                .map(|v| v.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let by_standard_name: Vec<_> = file
        .variables()
        .filter(|v| {
            attr_string(v, "standard_name").is_some_and(|s| s.trim() == "sea_surface_temperature")
        })
        .collect();
    match by_standard_name.len() {
        1 => return Ok(by_standard_name.into_iter().next().expect("one")),
        0 => {}
        _ => {
            return Err(NetcdfError::AmbiguousVariable {
                path: path.to_path_buf(),
                candidates: by_standard_name
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
    let by_name: Vec<_> = FALLBACK_NAMES
        .iter()
        .filter_map(|n| file.variable(n))
        .filter(|v| v.dimensions().len() >= 3)
        .collect();
    match by_name.len() {
        0 => Err(NetcdfError::NoSstVariable {
            path: path.to_path_buf(),
        }),
        1 => Ok(by_name.into_iter().next().expect("one")),
        _ => Err(NetcdfError::AmbiguousVariable {
            path: path.to_path_buf(),
            candidates: by_name
                .iter()
                .map(|v| v.name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Recognises a coordinate variable as time, latitude or longitude.
fn classify(coord: &netcdf::Variable) -> Option<Axis> {
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
fn canonical_axes(
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

fn strictly_monotonic(v: &[f64]) -> bool {
    if v.iter().any(|x| !x.is_finite()) {
        return false;
    }
    v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0])
}

/// Decodes stored values: missing-value tests in packed units, then scale/offset and units.
struct Unpacker {
    /// Exact stored values meaning "missing".
    missing: Vec<f64>,
    /// Whether NaN is declared missing (it always is, for safety).
    valid_min: f64,
    valid_max: f64,
    scale: f64,
    offset: f64,
    /// Added after unpacking: -273.15 for Kelvin.
    to_celsius: f64,
}

impl Unpacker {
    fn from_variable(path: &Path, var: &netcdf::Variable) -> Result<Self, NetcdfError> {
        let vtype = var.vartype();
        // Round declared missing values to the storage type so that a double attribute
        // compares equal to float data (-9.96921e36 as f64 vs as f32).
        let storage_round = |v: f64| -> f64 {
            match vtype {
                netcdf::types::NcVariableType::Float(netcdf::types::FloatType::F32) => {
                    v as f32 as f64
                }
                _ => v,
            }
        };
        let mut missing = Vec::new();
        let fill = attr_f64s(var, "_FillValue");
        match &fill {
            Some(f) => missing.extend(f.iter().map(|&v| storage_round(v))),
            None => missing.push(default_fill(&vtype)),
        }
        if let Some(mv) = attr_f64s(var, "missing_value") {
            missing.extend(mv.iter().map(|&v| storage_round(v)));
        }
        let (mut valid_min, mut valid_max) = (f64::NEG_INFINITY, f64::INFINITY);
        if let Some(r) = attr_f64s(var, "valid_range").filter(|r| r.len() == 2) {
            valid_min = storage_round(r[0]);
            valid_max = storage_round(r[1]);
        }
        if let Some(v) = attr_f64s(var, "valid_min").and_then(|v| v.first().copied()) {
            valid_min = storage_round(v);
        }
        if let Some(v) = attr_f64s(var, "valid_max").and_then(|v| v.first().copied()) {
            valid_max = storage_round(v);
        }
        let scale = attr_f64s(var, "scale_factor")
            .and_then(|v| v.first().copied())
            .unwrap_or(1.0);
        let offset = attr_f64s(var, "add_offset")
            .and_then(|v| v.first().copied())
            .unwrap_or(0.0);
        let units = attr_string(var, "units").unwrap_or_default();
        let to_celsius = match units.trim().to_ascii_lowercase().as_str() {
            "degc" | "deg_c" | "degreec" | "degree_c" | "degrees_c" | "degree_celsius"
            | "degrees_celsius" | "celsius" | "c" | "degrees c" | "degree c" | "°c"
            | "degrees celsius" => 0.0,
            "k" | "kelvin" | "kelvins" | "degk" | "deg_k" | "degree_k" | "degrees_k" => -273.15,
            "" => {
                tracing::warn!(
                    "{}: variable {:?} has no units attribute; assuming degrees Celsius",
                    path.display(),
                    var.name()
                );
                0.0
            }
            _ => {
                return Err(NetcdfError::Units {
                    path: path.to_path_buf(),
                    variable: var.name(),
                    units,
                })
            }
        };
        Ok(Self {
            missing,
            valid_min,
            valid_max,
            scale,
            offset,
            to_celsius,
        })
    }

    fn value(&self, raw: f64) -> f32 {
        if raw.is_nan()
            || self.missing.contains(&raw)
            || raw < self.valid_min
            || raw > self.valid_max
        {
            return f32::NAN;
        }
        (raw * self.scale + self.offset + self.to_celsius) as f32
    }
}

/// The NetCDF default fill value of a storage type (missing when no `_FillValue` is set).
fn default_fill(t: &netcdf::types::NcVariableType) -> f64 {
    use netcdf::types::{FloatType, IntType, NcVariableType as T};
    match t {
        T::Float(FloatType::F32) => 9.969_21e36_f32 as f64,
        T::Float(FloatType::F64) => 9.969_209_968_386_869e36,
        T::Int(IntType::I8) => -127.0,
        T::Int(IntType::U8) => 255.0,
        T::Int(IntType::I16) => -32_767.0,
        T::Int(IntType::U16) => 65_535.0,
        T::Int(IntType::I32) => -2_147_483_647.0,
        T::Int(IntType::U32) => 4_294_967_295.0,
        _ => f64::NAN,
    }
}

pub(super) fn attr_string(var: &netcdf::Variable, name: &str) -> Option<String> {
    match var.attribute_value(name)?.ok()? {
        AttributeValue::Str(s) => Some(s),
        AttributeValue::Strs(v) => Some(v.join(" ")),
        _ => None,
    }
}

fn attr_f64s(var: &netcdf::Variable, name: &str) -> Option<Vec<f64>> {
    use AttributeValue as A;
    let v = match var.attribute_value(name)?.ok()? {
        A::Uchar(x) => vec![x as f64],
        A::Uchars(x) => x.into_iter().map(f64::from).collect(),
        A::Schar(x) => vec![x as f64],
        A::Schars(x) => x.into_iter().map(f64::from).collect(),
        A::Ushort(x) => vec![x as f64],
        A::Ushorts(x) => x.into_iter().map(f64::from).collect(),
        A::Short(x) => vec![x as f64],
        A::Shorts(x) => x.into_iter().map(f64::from).collect(),
        A::Uint(x) => vec![x as f64],
        A::Uints(x) => x.into_iter().map(f64::from).collect(),
        A::Int(x) => vec![x as f64],
        A::Ints(x) => x.into_iter().map(f64::from).collect(),
        A::Ulonglong(x) => vec![x as f64],
        A::Ulonglongs(x) => x.into_iter().map(|v| v as f64).collect(),
        A::Longlong(x) => vec![x as f64],
        A::Longlongs(x) => x.into_iter().map(|v| v as f64).collect(),
        A::Float(x) => vec![x as f64],
        A::Floats(x) => x.into_iter().map(f64::from).collect(),
        A::Double(x) => vec![x],
        A::Doubles(x) => x,
        A::Str(s) => vec![s.trim().parse().ok()?],
        A::Strs(_) => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
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
    fn fixture(
        path: &Path,
        storage: Storage,
        lat_ascending: bool,
        lon_0_360: bool,
        first_month: u32,
    ) {
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
}
