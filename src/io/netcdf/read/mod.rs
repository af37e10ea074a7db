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
//! - **Anomalies** (Kaplan's `sst_anom`): a variable whose `standard_name` ends in `_anomaly`
//!   or whose name or `long_name` says anomaly holds departures from a climatology, not
//!   temperatures. They are screened against [`PLAUSIBLE_ANOMALY`] (-20..20 degC) instead of
//!   the SST range (which would mask a real -3.3 degC La Nina anomaly), and a Kelvin anomaly
//!   is a Celsius one (no 273.15 offset).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::NetcdfError;
use crate::grid::{Cube, LatLon};
use crate::time::{Calendar, Frequency, Period, TimeAxis};
use axes::{canonical_axes, classify, Axis};
use unpack::{attr_string, Unpacker};

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

/// Plausible sea-surface temperature anomalies, degC (the largest monthly anomalies of the
/// record are near 10 degC, off upwelling coasts; 20 leaves a wide margin).
pub const PLAUSIBLE_ANOMALY: std::ops::RangeInclusive<f32> = -20.0..=20.0;

/// The plausible range of a variable and its name in messages.
fn plausible(anomaly: bool) -> (std::ops::RangeInclusive<f32>, &'static str) {
    if anomaly {
        (PLAUSIBLE_ANOMALY, "SST anomaly")
    } else {
        (PLAUSIBLE_SST, "SST")
    }
}

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
    /// `v`, or NaN (counted) when it is a number outside `range`.
    fn screen(&mut self, v: f32, range: &std::ops::RangeInclusive<f32>) -> f32 {
        if v.is_nan() || range.contains(&v) {
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
    /// Whether the variable holds anomalies (module docs).
    anomaly: bool,
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
            let (range, what) = plausible(first.anomaly);
            return Err(NetcdfError::Implausible {
                path: first.path.clone(),
                variable,
                what,
                lo: *range.start(),
                hi: *range.end(),
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
    let anomaly = unpack::is_anomaly(&var);
    let unpack = Unpacker::from_variable(path, &var, anomaly)?;
    let (range, what) = plausible(anomaly);

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
                values.push(implausible.screen(unpack.value(raw[off]), &range));
            }
        }
    }
    if implausible.count > 0 {
        tracing::warn!(
            "{}: variable {:?}: {} value(s) outside the plausible {} range {}..{} degC after unit conversion (min {}, max {}) masked as missing",
            path.display(),
            vname,
            implausible.count,
            what,
            range.start(),
            range.end(),
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
        anomaly,
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

mod axes;
mod unpack;

#[cfg(test)]
mod tests;
