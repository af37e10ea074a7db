//! Golden hashes of rendered figures (`sstcast::render`): the drawing, pinned byte for byte.
//! An integration test: it uses only the renderer's public API.
//!
//! Why: the renderer is restructured now and then (issue 11 split it into shared modules, issue 14
//! moved it onto `tiny-skia` and `contour`) and tuned for speed, meant to leave every pixel and
//! every PNG byte as it was unless a change of look is deliberate. A handful of representative
//! heatmaps (NaN land, contours, both latitude directions, periodic and regional grids, colorbar
//! with and without a label, several sizes and colormaps) and line charts (log and linear axes,
//! dashes, isolated points, gaps, legends in different corners, custom ticks, the vertical marker)
//! are rendered through the public API and their PNG bytes compared, by FNV-1a hash and length,
//! with the values recorded when the drawing was last changed on purpose. A change that moves one
//! pixel (or the encoder's settings) fails here; when it is meant, record the new values printed by
//! the failure in the same commit and say why.

use sstcast::hash::fnv1a;
use sstcast::render::{
    render_heatmap, render_heatmap_hatched, render_lines, Band, Colormap, HeatmapStyle,
    LineChartStyle, Series, LAND_GREY, TAB10,
};

/// PNG bytes of a heatmap.
fn heatmap(lat: &[f64], lon: &[f64], values: &[f32], style: &HeatmapStyle) -> Vec<u8> {
    render_heatmap(lat, lon, values, style).unwrap()
}

/// PNG bytes of a line chart.
fn lines(series: &[Series], style: &LineChartStyle) -> Vec<u8> {
    render_lines(series, style).unwrap()
}

/// Cell centres `start, start + step, ...`, `n` of them.
fn centres(start: f64, step: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| start + step * i as f64).collect()
}

/// A smooth SST-like field: warm equator, a wave in longitude, NaN "land" in a box.
fn field(lat: &[f64], lon: &[f64], land: impl Fn(f64, f64) -> bool) -> Vec<f32> {
    let mut v = Vec::with_capacity(lat.len() * lon.len());
    for &la in lat {
        for &lo in lon {
            v.push(if land(la, lo) {
                f32::NAN
            } else {
                (29.0 * la.to_radians().cos().powi(2) - 1.5 + 2.0 * (lo.to_radians() * 3.0).sin())
                    as f32
            });
        }
    }
    v
}

/// The production figure: 2-degree global grid north to south, land, 15 contours, title,
/// default size.
fn heatmap_global_default() -> Vec<u8> {
    let lat = centres(88.0, -2.0, 89);
    let lon = centres(-180.0, 2.0, 180);
    let v = field(&lat, &lon, |la, lo| {
        (0.0..=40.0).contains(&la) && (0.0..=60.0).contains(&lo)
    });
    // A coast around the land box, and one across the dateline written on 0..360.
    let coast = vec![
        vec![
            (0.0, 0.0),
            (60.0, 0.0),
            (60.0, 40.0),
            (0.0, 40.0),
            (0.0, 0.0),
        ],
        vec![(170.0, -30.0), (190.0, -40.0), (200.0, -30.0)],
    ];
    let style = HeatmapStyle {
        title: "NOAA ERSST v5 sea surface temperature forecast, 2018 annual mean (sstcast)".into(),
        coastlines: Some(std::sync::Arc::new(coast)),
        ..HeatmapStyle::default()
    };
    heatmap(&lat, &lon, &v, &style)
}

/// 5-degree grid south to north on 0..360 longitudes, no title, no colorbar label, 900 x 500.
fn heatmap_south_to_north() -> Vec<u8> {
    let lat = centres(-87.5, 5.0, 36);
    let lon = centres(2.5, 5.0, 72);
    let v = field(&lat, &lon, |la, lo| {
        (-60.0..=-20.0).contains(&la) && (120.0..=150.0).contains(&lo)
    });
    let style = HeatmapStyle {
        units_label: String::new(),
        contours: 6,
        width: 900,
        height: 500,
        ..HeatmapStyle::default()
    };
    heatmap(&lat, &lon, &v, &style)
}

/// Diverging error map: RdBu_r, grey land, no contours, values beyond the scale.
fn heatmap_diverging() -> Vec<u8> {
    let lat = centres(87.0, -6.0, 30);
    let lon = centres(-177.0, 6.0, 60);
    let base = field(&lat, &lon, |la, _| la > 70.0);
    let v: Vec<f32> = base.iter().map(|x| (x - 14.0) / 5.0).collect();
    let style = HeatmapStyle {
        title: "Forecast minus observed, 2018 annual mean (NOAA ERSST v5, sstcast)".into(),
        units_label: "Forecast error (°C)".into(),
        vmin: -2.0,
        vmax: 2.0,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        coastlines: None,
        width: 1000,
        height: 520,
    };
    heatmap(&lat, &lon, &v, &style)
}

/// A regional (non-periodic) 1-degree grid at a small size with fractional colorbar ticks.
fn heatmap_regional_small() -> Vec<u8> {
    let lat = centres(20.0, -1.0, 41);
    let lon = centres(100.0, 1.0, 61);
    let v = field(&lat, &lon, |la, lo| la > 10.0 && lo < 112.0);
    let style = HeatmapStyle {
        title: "Regional".into(),
        vmin: 24.0,
        vmax: 29.5,
        contours: 8,
        width: 320,
        height: 200,
        ..HeatmapStyle::default()
    };
    heatmap(&lat, &lon, &v, &style)
}

/// A large figure (text and lines scaled up) of a coarse 10-degree grid.
fn heatmap_large_coarse() -> Vec<u8> {
    let lat = centres(85.0, -10.0, 18);
    let lon = centres(-175.0, 10.0, 36);
    let v = field(&lat, &lon, |_, _| false);
    let style = HeatmapStyle {
        title: "Coarse".into(),
        units_label: "RMSE ratio (model / best of climatology, persistence, damped persistence)"
            .into(),
        vmin: 0.0,
        vmax: 28.0,
        contours: 3,
        width: 2000,
        height: 1100,
        ..HeatmapStyle::default()
    };
    heatmap(&lat, &lon, &v, &style)
}

/// The loss figure: log y over three decades, training and validation, "kept" marker.
fn lines_loss_log() -> Vec<u8> {
    let train: Vec<f64> = (0..40)
        .map(|e| 0.8 * (-(e as f64) / 9.0).exp() + 0.002)
        .collect();
    let val: Vec<f64> = (0..41)
        .map(|e| 0.9 * (-(e as f64) / 12.0).exp() + 0.01 + 0.0004 * e as f64)
        .collect();
    let s = [
        Series {
            label: "training".into(),
            x: (1..=train.len()).map(|e| e as f64).collect(),
            y: train,
            color: TAB10[0],
            ..Series::default()
        },
        Series {
            label: "validation (last training year)".into(),
            x: (0..val.len()).map(|e| e as f64).collect(),
            y: val,
            color: TAB10[1],
            ..Series::default()
        },
    ];
    let style = LineChartStyle {
        title: "tile_03_07: loss per epoch (kept epoch 23)".into(),
        x_label: "epoch".into(),
        y_label: "MSE of standardised anomalies".into(),
        log_y: true,
        vertical_line: Some((23.0, "kept".into())),
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// The time-series figure: year ticks, two observed pieces (one legend entry), dashed
/// forecast, "forecast start" marker.
fn lines_series_years() -> Vec<u8> {
    let month = |i: usize| 1990.0 + (i as f64 + 0.5) / 12.0;
    let sst = |i: usize| 18.0 + 4.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin();
    let before = 28 * 12;
    let black = [0, 0, 0];
    let s = [
        Series {
            label: "observed".into(),
            x: (0..before).map(month).collect(),
            y: (0..before).map(sst).collect(),
            color: black,
            ..Series::default()
        },
        Series {
            label: "observed".into(),
            x: (before..before + 12).map(month).collect(),
            y: (before..before + 12).map(sst).collect(),
            color: black,
            ..Series::default()
        },
        Series {
            label: "sstcast forecast".into(),
            x: (before..before + 12).map(month).collect(),
            y: (before..before + 12).map(|i| sst(i) + 0.4).collect(),
            color: TAB10[3],
            dashed: true,
            width: 2.5,
            ..Series::default()
        },
    ];
    let ticks = (1990..=2019)
        .step_by(2)
        .map(|y| (y as f64, y.to_string()))
        .collect();
    let style = LineChartStyle {
        title: "ice: area-mean SST, NOAA ERSST v5 observations and sstcast forecast for 2018"
            .into(),
        x_label: "year".into(),
        y_label: "Sea surface temperature (°C)".into(),
        x_ticks: Some(ticks),
        vertical_line: Some((2018.0, "forecast start".into())),
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// Linear axes, negative values (Unicode minus), a NaN gap, an isolated point (drawn as a
/// dot), a wide line and an unlabelled series; small figure, no title.
fn lines_linear_gaps() -> Vec<u8> {
    let x: Vec<f64> = (0..30).map(|i| i as f64 * 0.5 - 3.0).collect();
    let mut y: Vec<f64> = x
        .iter()
        .map(|&v| -2.0 + v * 0.3 + (v * 1.7).sin())
        .collect();
    y[9] = f64::NAN;
    y[11] = f64::NAN;
    y[20] = f64::NAN;
    let s = [
        Series {
            label: "with gaps".into(),
            x: x.clone(),
            y,
            color: TAB10[2],
            width: 3.0,
            ..Series::default()
        },
        Series {
            label: String::new(),
            x: x.clone(),
            y: x.iter().map(|&v| -0.5 * v - 4.0).collect(),
            color: TAB10[4],
            dashed: true,
            width: 1.2,
            ..Series::default()
        },
    ];
    let style = LineChartStyle {
        x_label: "offset".into(),
        width: 400,
        height: 250,
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// Log axis over one decade (the 2 and 5 minors labelled), no title, legend pushed to a
/// lower corner by data in the upper ones.
fn lines_log_one_decade() -> Vec<u8> {
    let x: Vec<f64> = (0..50).map(f64::from).collect();
    let s = [
        Series {
            label: "falling".into(),
            x: x.clone(),
            y: x.iter().map(|&v| 0.9 - v * 0.015).collect(),
            color: TAB10[5],
            ..Series::default()
        },
        Series {
            label: "flat".into(),
            x: x.clone(),
            y: x.iter().map(|_| 0.85).collect(),
            color: TAB10[9],
            dashed: true,
            ..Series::default()
        },
    ];
    let style = LineChartStyle {
        y_label: "loss".into(),
        log_y: true,
        width: 640,
        height: 360,
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// A single point, a large figure, a marker at the right edge with its label flipped left.
fn lines_single_point_large() -> Vec<u8> {
    let s = [Series {
        label: "one".into(),
        x: vec![3.0],
        y: vec![7.0],
        color: TAB10[6],
        width: 4.0,
        ..Series::default()
    }];
    let style = LineChartStyle {
        title: "Single point".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        vertical_line: Some((3.3, "edge marker".into())),
        width: 1800,
        height: 900,
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// Confidence bands (issue 12): two lines with translucent bands that overlap, a NaN gap in
/// one band (the line goes on), an isolated band point drawn as a bar, legend patches.
fn lines_bands() -> Vec<u8> {
    let x: Vec<f64> = (1..=12).map(f64::from).collect();
    let model: Vec<f64> = x.iter().map(|&k| 0.3 + 0.05 * k - 0.002 * k * k).collect();
    let reference: Vec<f64> = x
        .iter()
        .map(|&k| 0.33 + 0.055 * k - 0.002 * k * k)
        .collect();
    let band = |y: &[f64], w: f64| Band {
        lower: y
            .iter()
            .enumerate()
            .map(|(i, v)| v - w * (1.0 + 0.1 * i as f64))
            .collect(),
        upper: y
            .iter()
            .enumerate()
            .map(|(i, v)| v + w * (1.0 + 0.1 * i as f64))
            .collect(),
        ..Band::default()
    };
    let mut rb = band(&reference, 0.02);
    rb.lower[5] = f64::NAN;
    rb.upper[9] = f64::NAN;
    rb.upper[11] = f64::NAN;
    let s = [
        Series {
            label: "model".into(),
            x: x.clone(),
            y: model.clone(),
            color: TAB10[0],
            width: 2.5,
            band: Some(band(&model, 0.03)),
            ..Series::default()
        },
        Series {
            label: "reference".into(),
            x,
            y: reference,
            color: TAB10[1],
            dashed: true,
            band: Some(rb),
            ..Series::default()
        },
    ];
    let style = LineChartStyle {
        title: "Bands".into(),
        x_label: "lead (months)".into(),
        y_label: "RMSE (°C)".into(),
        width: 800,
        height: 450,
        ..LineChartStyle::default()
    };
    lines(&s, &style)
}

/// Hatched cells over a diverging map (issue 12: regions whose difference is not
/// significant), with grey land.
fn heatmap_hatched() -> Vec<u8> {
    let lat = centres(87.0, -6.0, 30);
    let lon = centres(-177.0, 6.0, 60);
    let base = field(&lat, &lon, |la, _| la > 70.0);
    let v: Vec<f32> = base.iter().map(|x| 0.7 + x / 50.0).collect();
    let hatched: Vec<bool> = (0..v.len())
        .map(|c| (c / 60 / 5 + c % 60 / 10) % 3 == 0)
        .collect();
    let style = HeatmapStyle {
        title: "Hatched".into(),
        units_label: "RMSE ratio".into(),
        vmin: 0.5,
        vmax: 1.5,
        contours: 0,
        colormap: Colormap::RdBuR,
        missing_color: LAND_GREY,
        coastlines: None,
        width: 1000,
        height: 520,
    };
    render_heatmap_hatched(&lat, &lon, &v, &hatched, &style).unwrap()
}

type Case = (&'static str, fn() -> Vec<u8>);

const CASES: [Case; 12] = [
    ("heatmap_global_default", heatmap_global_default),
    ("heatmap_south_to_north", heatmap_south_to_north),
    ("heatmap_diverging", heatmap_diverging),
    ("heatmap_regional_small", heatmap_regional_small),
    ("heatmap_large_coarse", heatmap_large_coarse),
    ("lines_loss_log", lines_loss_log),
    ("lines_series_years", lines_series_years),
    ("lines_linear_gaps", lines_linear_gaps),
    ("lines_log_one_decade", lines_log_one_decade),
    ("lines_single_point_large", lines_single_point_large),
    ("lines_bands", lines_bands),
    ("heatmap_hatched", heatmap_hatched),
];

/// `(name, FNV-1a of the PNG bytes, length)`, recorded when issue 14 moved the drawing onto
/// `tiny-skia` and georust `contour` (new anti-aliasing, contour levels on the colorbar, a
/// coastline on the global map; looked at: same layout, lines stop at land as before).
const GOLDEN: [(&str, u64, usize); 12] = [
    ("heatmap_global_default", 0x8da5a2ce590c7486, 320567),
    ("heatmap_south_to_north", 0x2a8016c4bff288eb, 96867),
    ("heatmap_diverging", 0x1850e7140339e7fe, 43670),
    ("heatmap_regional_small", 0x3154151655181669, 35714),
    ("heatmap_large_coarse", 0xd0708d9d4ef4c5ce, 140529),
    ("lines_loss_log", 0x3d960fff4af02d8b, 77480),
    ("lines_series_years", 0xe07c4c359ab9199b, 150596),
    ("lines_linear_gaps", 0x350c1b252c213a4f, 19326),
    ("lines_log_one_decade", 0xfc96b42ca1bf83fc, 24212),
    ("lines_single_point_large", 0x70810cd8651da231, 53423),
    ("lines_bands", 0xc422e81117766170, 39212),
    ("heatmap_hatched", 0x70eed17d13591e15, 324716),
];

/// With `SSTCAST_GOLDEN_DIR` set, the figures are also written there (`<name>.png`), to look
/// at what changed.
#[test]
fn figures_are_byte_identical_to_the_recorded_ones() {
    let keep = std::env::var_os("SSTCAST_GOLDEN_DIR").map(std::path::PathBuf::from);
    let mut got = Vec::new();
    for (name, draw) in CASES {
        let png = draw();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        if let Some(dir) = &keep {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
        got.push((name, fnv1a(&png), png.len()));
    }
    let table: String = got
        .iter()
        .map(|(n, h, l)| format!("    ({n:?}, 0x{h:016x}, {l}),\n"))
        .collect();
    let changed: Vec<&str> = got
        .iter()
        .zip(&GOLDEN)
        .filter(|(g, w)| g.0 != w.0 || g.1 != w.1 || g.2 != w.2)
        .map(|(g, _)| g.0)
        .collect();
    assert!(
        changed.is_empty(),
        "rendering changed for {changed:?}; if meant, the new table is:\n{table}"
    );
}
