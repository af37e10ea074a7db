//! Tests of the heatmaps: cell colours where the grid puts them, the frame found back in the
//! image, errors for bad inputs, latitude order and the periodic extent.

use super::*;
use std::sync::Arc;

/// 2-degree global grid, north to south, warm equator, NaN block.
fn synthetic() -> (Vec<f64>, Vec<f64>, Vec<f32>) {
    let lat: Vec<f64> = (0..89).map(|i| 88.0 - 2.0 * i as f64).collect();
    let lon: Vec<f64> = (0..180).map(|j| -180.0 + 2.0 * j as f64).collect();
    let mut v = Vec::new();
    for &la in &lat {
        for &lo in &lon {
            let land = (0.0..=40.0).contains(&la) && (0.0..=60.0).contains(&lo);
            v.push(if land {
                f32::NAN
            } else {
                (30.0 * la.to_radians().cos()) as f32
            });
        }
    }
    (lat, lon, v)
}

#[test]
fn renders_png_with_white_land_and_red_tropics() {
    let (lat, lon, v) = synthetic();
    let style = HeatmapStyle {
        title: "test".into(),
        width: 700,
        height: 400,
        ..HeatmapStyle::default()
    };
    let png = render_heatmap(&lat, &lon, &v, &style).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (700, 400));
    // Recover the map rectangle from the frame: scan the middle row
    // left to right for the first black pixel after the labels.
    let (x0, y0, mw, mh) = find_frame(&img);
    let to_px = |lo: f64, la: f64| {
        let x = x0 as f64 + (lo + 180.0) / 360.0 * mw as f64;
        let y = y0 as f64 + (89.0 - la) / 178.0 * mh as f64;
        (x as u32, y as u32)
    };
    // Land cell centre (lat 20, lon 30): white.
    let (x, y) = to_px(31.0, 21.0);
    assert_eq!(img.get_pixel(x, y).0, [255, 255, 255]);
    // Warm equatorial cell (lat 0, lon -100 -> 30 C = vmax): coolwarm(1).
    let (x, y) = to_px(-99.0, 1.0);
    let p = img.get_pixel(x, y).0;
    assert!(
        p[0] > 150 && p[1] < 80 && p[2] < 80,
        "expected red, got {p:?}"
    );
    // Cold polar cell (lat 88 -> ~1 C): bluish.
    let (x, y) = to_px(-99.0, 86.0);
    let p = img.get_pixel(x, y).0;
    assert!(p[2] > p[0], "expected blue, got {p:?}");
}

/// Find the map frame in a rendered image: the longest black vertical
/// run left of centre gives x0 - 1 and y0..y0+mh.
fn find_frame(img: &image::RgbImage) -> (u32, u32, u32, u32) {
    let (w, h) = img.dimensions();
    let black = |x: u32, y: u32| img.get_pixel(x, y).0 == [0, 0, 0];
    let run = |x: u32| -> (u32, u32) {
        let (mut best, mut best_start, mut cur, mut start) = (0, 0, 0, 0);
        for y in 0..h {
            if black(x, y) {
                if cur == 0 {
                    start = y;
                }
                cur += 1;
                if cur > best {
                    best = cur;
                    best_start = start;
                }
            } else {
                cur = 0;
            }
        }
        (best, best_start)
    };
    let left = (0..w / 2)
        .max_by_key(|&x| (run(x).0, std::cmp::Reverse(x)))
        .unwrap();
    let (len, top) = run(left);
    let y_mid = top + len / 2;
    let right = (left + 1..w).find(|&x| black(x, y_mid)).unwrap();
    (left + 1, top + 1, right - left - 1, len - 2)
}

#[test]
fn shape_mismatch_is_reported() {
    let err = render_heatmap(
        &[1.0, 0.0],
        &[0.0, 1.0, 2.0],
        &[0.0; 5],
        &HeatmapStyle::default(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        RenderError::Shape {
            nlat: 2,
            nlon: 3,
            actual: 5
        }
    ));
}

#[test]
fn bad_coordinates_are_draw_errors() {
    let r = render_heatmap(
        &[0.0, 0.0],
        &[0.0, 1.0],
        &[0.0; 4],
        &HeatmapStyle::default(),
    );
    assert!(matches!(r, Err(RenderError::Draw { .. })));
}

#[test]
fn latitude_order_does_not_matter() {
    let (lat, lon, v) = synthetic();
    let style = HeatmapStyle {
        width: 700,
        height: 400,
        ..HeatmapStyle::default()
    };
    let north_first = render_canvas(&lat, &lon, &v, None, &style).ok().unwrap();
    let lat_rev: Vec<f64> = lat.iter().rev().copied().collect();
    let v_rev: Vec<f32> = v.chunks(lon.len()).rev().flatten().copied().collect();
    let south_first = render_canvas(&lat_rev, &lon, &v_rev, None, &style)
        .ok()
        .unwrap();
    // The same picture; contour rings run the other way, which may move anti-aliasing a
    // little on a few pixels.
    let (a, b) = (north_first.pm.data(), south_first.pm.data());
    let off = a
        .iter()
        .zip(b)
        .filter(|(p, q)| p.abs_diff(**q) > 40)
        .count();
    assert!(off < 50, "{off} channels differ");
}

#[test]
fn periodic_extent_for_2_degree_grid() {
    // The -180 cell covers -181..-179, i.e. also 179..181: the pixel at
    // the right edge of the map must show it.
    let lat = [10.0, -10.0];
    let lon: Vec<f64> = (0..180).map(|j| -180.0 + 2.0 * j as f64).collect();
    let mut v = vec![0.0f32; 2 * 180];
    v[0] = 30.0;
    v[180] = 30.0;
    let cv = render_canvas(
        &lat,
        &lon,
        &v,
        None,
        &HeatmapStyle {
            contours: 0,
            ..HeatmapStyle::default()
        },
    )
    .ok()
    .unwrap();
    // Find the map's right edge on the row through the middle.
    let img = cv.rgb_image();
    let (x0, y0, mw, mh) = find_frame(&img);
    let y = y0 + mh / 2;
    assert_eq!(img.get_pixel(x0 + mw - 1, y).0, [180, 4, 38]);
    assert_eq!(img.get_pixel(x0, y).0, [180, 4, 38]);
    assert_ne!(img.get_pixel(x0 + mw / 2, y).0, [180, 4, 38]);
}

#[test]
fn hatching_marks_only_the_flagged_cells() {
    let lat = [10.0, -10.0];
    let lon: Vec<f64> = (0..180).map(|j| -180.0 + 2.0 * j as f64).collect();
    let v = vec![15.0f32; 2 * 180];
    // Well inside the left half: the wrapped -180 cell also shows at the right edge.
    let hatched: Vec<bool> = (0..v.len())
        .map(|c| (-100.0..=-20.0).contains(&lon[c % 180]))
        .collect();
    let style = HeatmapStyle {
        contours: 0,
        ..HeatmapStyle::default()
    };
    let plain = render_canvas(&lat, &lon, &v, None, &style).ok().unwrap();
    let marked = render_canvas(&lat, &lon, &v, Some(&hatched), &style)
        .ok()
        .unwrap();
    let img = plain.rgb_image();
    let (x0, _, mw, _) = find_frame(&img);
    let w = marked.w as usize;
    let changed: Vec<usize> = img
        .as_raw()
        .chunks_exact(3)
        .zip(marked.rgb_image().as_raw().chunks_exact(3))
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i % w)
        .collect();
    assert!(changed.len() > 1000, "{} hatched pixels", changed.len());
    assert!(changed.iter().all(|&x| x < (x0 + mw / 2 + 1) as usize));
    let short = [true; 3];
    assert!(render_heatmap_hatched(&lat, &lon, &v, &short, &style).is_err());
}

#[test]
fn coastlines_are_drawn_in_either_longitude_convention() {
    let lat: Vec<f64> = (0..45).map(|i| 88.0 - 4.0 * i as f64).collect();
    let lon: Vec<f64> = (0..90).map(|j| -180.0 + 4.0 * j as f64).collect();
    let v = vec![15.0f32; lat.len() * lon.len()];
    // A meridian at 30E, and one at 300E (= 60W) written on 0..360.
    let coast = vec![
        vec![(30.0, -40.0), (30.0, 40.0)],
        vec![(300.0, -40.0), (300.0, 40.0)],
    ];
    let style = HeatmapStyle {
        contours: 0,
        coastlines: Some(Arc::new(coast)),
        ..HeatmapStyle::default()
    };
    let img = render_canvas(&lat, &lon, &v, None, &style)
        .ok()
        .unwrap()
        .rgb_image();
    let (x0, y0, mw, mh) = find_frame(&img);
    let col = |lo: f64| x0 + ((lo + 180.0) / 360.0 * mw as f64) as u32;
    let dark = |x: u32| (x - 1..=x + 1).any(|x| img.get_pixel(x, y0 + mh / 2).0[0] < 160);
    assert!(dark(col(30.0)) && dark(col(-60.0)));
    assert!(!dark(col(0.0)) && !dark(col(120.0)));
    // Away from the lines' latitudes, nothing.
    assert!(img.get_pixel(col(30.0), y0 + 5).0[0] > 200);
}

#[test]
fn robust_ranges_are_round_and_fit_the_field() {
    // Iceland-like: 3..10 degC with a few outliers.
    let mut v: Vec<f32> = (0..1000).map(|i| 3.2 + 6.5 * (i as f32 / 999.0)).collect();
    v.extend([f32::NAN, -1.8, 25.0]);
    assert_eq!(robust_range(&v, false), Some((3.0, 10.0)));
    // Anomalies: centred on 0.
    let a: Vec<f32> = (0..1000).map(|i| -0.9 + 2.2 * (i as f32 / 999.0)).collect();
    let (lo, hi) = robust_range(&a, true).unwrap();
    assert_eq!(lo, -hi);
    assert!((1.2..=1.5).contains(&hi), "{hi}");
    assert_eq!(robust_range(&[5.0; 10], false), None);
    assert_eq!(robust_range(&[f32::NAN], false), None);
}

#[test]
fn contour_levels_are_marked_on_the_colorbar() {
    let (lat, lon, v) = synthetic();
    let style = HeatmapStyle {
        width: 700,
        height: 400,
        ..HeatmapStyle::default()
    };
    let with = render_canvas(&lat, &lon, &v, None, &style)
        .ok()
        .unwrap()
        .rgb_image();
    let none = HeatmapStyle {
        contours: 0,
        ..style
    };
    let without = render_canvas(&lat, &lon, &v, None, &none)
        .ok()
        .unwrap()
        .rgb_image();
    let (x0, _, mw, _) = find_frame(&with);
    // Right of the map: black pixels only the contoured figure has, in rows across the bar.
    let rows: std::collections::BTreeSet<u32> = with
        .enumerate_pixels()
        .filter(|&(x, y, p)| {
            x > x0 + mw + 2 && p.0 == [0; 3] && without.get_pixel(x, y).0 != [0; 3]
        })
        .map(|(_, y, _)| y)
        .collect();
    assert!(rows.len() >= 10, "{} marked rows", rows.len());
}
