//! Stored values to degrees Celsius: missing-value tests in packed units (CF 8.1), then
//! `scale_factor`/`add_offset` and Kelvin; attribute helpers.

use std::path::Path;

use netcdf::AttributeValue;

use crate::io::netcdf::NetcdfError;

/// Decodes stored values: missing-value tests in packed units, then scale/offset and units.
pub(super) struct Unpacker {
    /// Exact stored values meaning "missing".
    missing: Vec<f64>,
    /// Whether NaN is declared missing (it always is, for safety).
    valid_min: f64,
    valid_max: f64,
    scale: f64,
    offset: f64,
    /// Added after unpacking: -273.15 for Kelvin temperatures (0 for anomalies).
    to_celsius: f64,
}

/// Whether `var` holds anomalies rather than temperatures: its `standard_name` ends in
/// `_anomaly`, or its name or `long_name` says anomaly (`sst_anom`, "SST anomaly").
pub(super) fn is_anomaly(var: &netcdf::Variable) -> bool {
    let says = |s: &str| s.to_ascii_lowercase().contains("anom");
    attr_string(var, "standard_name").is_some_and(|s| s.trim().ends_with("_anomaly"))
        || says(&var.name())
        || attr_string(var, "long_name").is_some_and(|s| says(&s))
}

impl Unpacker {
    /// The decoder of `var`; `anomaly`: its values are departures (Kelvin = Celsius).
    pub(super) fn from_variable(
        path: &Path,
        var: &netcdf::Variable,
        anomaly: bool,
    ) -> Result<Self, NetcdfError> {
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
            "k" | "kelvin" | "kelvins" | "degk" | "deg_k" | "degree_k" | "degrees_k" => {
                if anomaly {
                    0.0
                } else {
                    -273.15
                }
            }
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

    pub(super) fn value(&self, raw: f64) -> f32 {
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
pub(super) fn default_fill(t: &netcdf::types::NcVariableType) -> f64 {
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

pub(super) fn attr_f64s(var: &netcdf::Variable, name: &str) -> Option<Vec<f64>> {
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
