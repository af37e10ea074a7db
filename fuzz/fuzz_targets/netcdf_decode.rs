//! Fuzz target: CF attribute and time decoding in the NetCDF reader, through real files.
//!
//! libFuzzer mutates a small line-based description of a file (readable seeds, useful
//! mutations); the harness writes that file with libnetcdf and hands it to
//! [`sstcast::io::netcdf::read_cube`], the same entry point the pipeline uses. The reader must
//! return a cube or a `NetcdfError` naming the file, never panic (integer overflow in calendar
//! arithmetic, out-of-bounds indexing, NaN comparisons...).
//!
//! Input format, one `key=value` per line (unknown lines are ignored, sizes are capped):
//!
//! ```text
//! format=classic|netcdf4        file format (default netcdf4)
//! var=sst                       data variable name
//! want=sst                      variable name asked of the reader (default: discovery)
//! type=f32|f64|i16|i32|u8       data variable storage type
//! time=0,31,59                  time coordinate values (1..=6)
//! lat=10,-10  lon=0,90,180,270  coordinate values (1..=8 each)
//! data=1.5,nan,300              data values, repeated to fill (time, lat, lon)
//! time.units=days since 1800-01-01     an attribute on time, lat, lon or var
//! var._FillValue:f32=-999       attribute types: str (default), f32, f64, i16, i32
//! ```

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone)]
enum Attr {
    Str(String),
    F32(Vec<f32>),
    F64(Vec<f64>),
    I16(Vec<i16>),
    I32(Vec<i32>),
}

#[derive(Debug, Default)]
struct Spec {
    classic: bool,
    var: String,
    want: Option<String>,
    ty: String,
    time: Vec<f64>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    data: Vec<f64>,
    /// (target, name, value), target in time/lat/lon/var.
    attrs: Vec<(String, String, Attr)>,
}

fn numbers(s: &str, cap: usize) -> Vec<f64> {
    s.split(',')
        .filter_map(|x| x.trim().parse::<f64>().ok())
        .take(cap)
        .collect()
}

fn parse(text: &str) -> Spec {
    let mut s = Spec {
        var: "sst".into(),
        ty: "f32".into(),
        time: vec![0.0],
        lat: vec![10.0, -10.0],
        lon: vec![0.0, 90.0, 180.0, 270.0],
        data: vec![15.0],
        ..Spec::default()
    };
    for line in text.lines().take(64) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        match key {
            "format" => s.classic = value.trim() == "classic",
            "var" => s.var = value.trim().chars().take(32).collect(),
            "want" => s.want = Some(value.chars().take(300).collect()),
            "type" => s.ty = value.trim().into(),
            "time" => s.time = numbers(value, 6),
            "lat" => s.lat = numbers(value, 8),
            "lon" => s.lon = numbers(value, 8),
            "data" => s.data = numbers(value, 64),
            _ => {
                let (target_name, ty) = key.split_once(':').unwrap_or((key, "str"));
                let Some((target, name)) = target_name.split_once('.') else {
                    continue;
                };
                if !["time", "lat", "lon", "var"].contains(&target) || name.is_empty() {
                    continue;
                }
                let attr = match ty {
                    "f32" => Attr::F32(numbers(value, 8).iter().map(|&v| v as f32).collect()),
                    "f64" => Attr::F64(numbers(value, 8)),
                    "i16" => Attr::I16(numbers(value, 8).iter().map(|&v| v as i16).collect()),
                    "i32" => Attr::I32(numbers(value, 8).iter().map(|&v| v as i32).collect()),
                    _ => Attr::Str(value.chars().take(200).collect()),
                };
                s.attrs
                    .push((target.into(), name.chars().take(64).collect(), attr));
            }
        }
    }
    s
}

/// Writes the file; `None` when libnetcdf refuses the description (not a reader bug).
fn write(path: &PathBuf, s: &Spec) -> Option<()> {
    if s.time.is_empty() || s.lat.is_empty() || s.lon.is_empty() || s.var.is_empty() {
        return None;
    }
    if ["time", "lat", "lon"].contains(&s.var.as_str()) || s.var.contains('\0') {
        return None;
    }
    let options = if s.classic {
        netcdf::Options::empty()
    } else {
        netcdf::Options::NETCDF4
    };
    let mut f = netcdf::create_with(path, options).ok()?;
    f.add_dimension("time", s.time.len()).ok()?;
    f.add_dimension("lat", s.lat.len()).ok()?;
    f.add_dimension("lon", s.lon.len()).ok()?;
    // Define everything, then write: NetCDF classic cannot define after writing.
    for name in ["time", "lat", "lon"] {
        let mut v = f.add_variable::<f64>(name, &[name]).ok()?;
        for (target, attr, value) in &s.attrs {
            if target == name {
                put(&mut v, attr, value);
            }
        }
    }
    let dims = ["time", "lat", "lon"];
    {
        let mut v = match s.ty.as_str() {
            "f64" => f.add_variable::<f64>(&s.var, &dims),
            "i16" => f.add_variable::<i16>(&s.var, &dims),
            "i32" => f.add_variable::<i32>(&s.var, &dims),
            "u8" => f.add_variable::<u8>(&s.var, &dims),
            _ => f.add_variable::<f32>(&s.var, &dims),
        }
        .ok()?;
        for (target, attr, value) in &s.attrs {
            if target == "var" {
                put(&mut v, attr, value);
            }
        }
    }
    if s.classic {
        f.enddef().ok()?;
    }
    for (name, values) in [("time", &s.time), ("lat", &s.lat), ("lon", &s.lon)] {
        f.variable_mut(name)?.put_values(values, ..).ok()?;
    }
    let n = s.time.len() * s.lat.len() * s.lon.len();
    let data: Vec<f64> = (0..n)
        .map(|k| s.data.get(k % s.data.len().max(1)).copied().unwrap_or(0.0))
        .collect();
    let mut v = f.variable_mut(&s.var)?;
    macro_rules! put_data {
        ($t:ty) => {{
            let d: Vec<$t> = data.iter().map(|&x| x as $t).collect();
            v.put_values(&d, ..).ok()?;
        }};
    }
    match s.ty.as_str() {
        "f64" => put_data!(f64),
        "i16" => put_data!(i16),
        "i32" => put_data!(i32),
        "u8" => put_data!(u8),
        _ => put_data!(f32),
    }
    Some(())
}

fn put(v: &mut netcdf::VariableMut<'_>, name: &str, value: &Attr) {
    // netcdf 0.12 panics on names with an interior NUL (no file can hold one): not written.
    if name.contains('\0') {
        return;
    }
    // Refusals (a _FillValue of the wrong type, a reserved name) are libnetcdf's business.
    let _ = match value.clone() {
        Attr::Str(x) => v.put_attribute(name, x),
        Attr::F32(x) if !x.is_empty() => v.put_attribute(name, x),
        Attr::F64(x) if !x.is_empty() => v.put_attribute(name, x),
        Attr::I16(x) if !x.is_empty() => v.put_attribute(name, x),
        Attr::I32(x) if !x.is_empty() => v.put_attribute(name, x),
        _ => return,
    };
}

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("sstcast-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let spec = parse(text);
    let path = scratch().join("input.nc");
    let _ = std::fs::remove_file(&path);
    if write(&path, &spec).is_none() {
        return;
    }
    match sstcast::io::netcdf::read_cube(std::slice::from_ref(&path), spec.want.as_deref()) {
        Ok(cube) => {
            // A cube that comes back is canonical and plausible.
            assert!(cube.grid.lat.windows(2).all(|w| w[0] > w[1]));
            assert!(cube.grid.lon.windows(2).all(|w| w[0] < w[1]));
            assert!(cube
                .values
                .iter()
                .all(|v| v.is_nan() || (-3.0..=45.0).contains(v)));
        }
        Err(e) => assert!(e.to_string().contains("input.nc"), "{e}"),
    }
});
