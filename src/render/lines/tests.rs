//! Tests of the line charts: pixels where lines, gaps, dashes and the legend should be, and
//! axis ranges and ticks chosen from the data.

use super::*;
use crate::render::canvas::WHITE;

fn pixel(cv: &Canvas, x: i32, y: i32) -> [u8; 3] {
    let i = (y * cv.w + x) as usize * 4;
    let p = &cv.pm.data()[i..i + 3];
    [p[0], p[1], p[2]]
}

fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    a.iter()
        .zip(&b)
        .all(|(&p, &q)| (p as i32 - q as i32).abs() <= tol)
}

#[test]
fn renders_png_of_requested_size() {
    let s = Series {
        label: "a".into(),
        x: vec![0.0, 1.0, 2.0],
        y: vec![1.0, 3.0, 2.0],
        ..Series::default()
    };
    let style = LineChartStyle {
        title: "t".into(),
        width: 640,
        height: 360,
        ..LineChartStyle::default()
    };
    let png = render_lines(&[s], &style).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (640, 360));
}

#[test]
fn line_pixels_have_the_series_colour() {
    let s = Series {
        label: "diag".into(),
        x: vec![0.0, 10.0],
        y: vec![0.0, 10.0],
        color: TAB10[3],
        width: 3.0,
        ..Series::default()
    };
    let (cv, f) = render_canvas(&[s], &LineChartStyle::default()).unwrap();
    for x in [2.3, 5.1, 7.7] {
        let (px, py) = f.to_px(x, x);
        let p = pixel(&cv, f.x0 + px as i32, f.y0 + py as i32);
        assert!(close(p, TAB10[3], 30), "at {x}: {p:?}");
    }
    // The legend (upper left: the line runs through the upper right).
    let (bx, by, _, _) = f.legend.unwrap();
    assert!(bx < f.x0 + f.pw / 2 && by < f.y0 + f.ph / 2);
}

#[test]
fn dashed_line_has_gaps() {
    let s = Series {
        x: vec![0.0, 10.0],
        y: vec![5.0, 5.0],
        color: TAB10[0],
        dashed: true,
        ..Series::default()
    };
    let style = LineChartStyle {
        y_label: String::new(),
        ..LineChartStyle::default()
    };
    let (cv, f) = render_canvas(&[s], &style).unwrap();
    let (_, py) = f.to_px(0.0, 5.0);
    let row = f.y0 + py as i32;
    let (a, _) = f.to_px(1.0, 5.0);
    let (b, _) = f.to_px(9.0, 5.0);
    let coloured = (a as i32..b as i32)
        .filter(|&x| close(pixel(&cv, f.x0 + x, row), TAB10[0], 40))
        .count();
    let total = (b - a) as usize;
    assert!(
        coloured > total / 2 && coloured < total * 9 / 10,
        "{coloured} of {total}"
    );
}

#[test]
fn log_axis_ticks_are_powers_of_ten() {
    let x: Vec<f64> = (0..=30).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|&e| 10f64.powf(-e / 10.0)).collect();
    let s = Series {
        label: "loss".into(),
        x,
        y,
        ..Series::default()
    };
    let style = LineChartStyle {
        log_y: true,
        ..LineChartStyle::default()
    };
    let (_, f) = render_canvas(&[s], &style).unwrap();
    assert_eq!((f.y.lo, f.y.hi), (-3.0, 0.0));
    let labels: Vec<&str> = f
        .y_ticks
        .iter()
        .filter(|t| !t.label.is_empty())
        .map(|t| t.label.as_str())
        .collect();
    assert_eq!(labels, ["10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
    assert_eq!(f.y_ticks.iter().filter(|t| !t.major).count(), 3 * 8);
    // The labels' glyphs and exponent runs: see `ticks` and `text`.
}

#[test]
fn log_axis_skips_non_positive_values() {
    let s = Series {
        x: vec![0.0, 1.0, 2.0, 3.0],
        y: vec![0.5, 0.0, -1.0, 0.02],
        ..Series::default()
    };
    let style = LineChartStyle {
        log_y: true,
        ..LineChartStyle::default()
    };
    let (_, f) = render_canvas(&[s], &style).unwrap();
    assert_eq!((f.y.lo, f.y.hi), (-2.0, 0.0));
}

#[test]
fn invalid_inputs_are_errors() {
    let style = LineChartStyle::default();
    let r = render_lines(&[], &style);
    assert!(matches!(r, Err(RenderError::Chart { .. })));
    let bad = Series {
        x: vec![0.0, 1.0],
        y: vec![0.0],
        ..Series::default()
    };
    let r = render_lines(&[bad], &style);
    assert!(matches!(r, Err(RenderError::Chart { .. })));
    let nan = Series {
        x: vec![0.0, 1.0],
        y: vec![f64::NAN, f64::NAN],
        ..Series::default()
    };
    assert!(render_lines(&[nan], &style).is_err());
}

#[test]
fn nan_splits_the_line() {
    let s = Series {
        x: vec![0.0, 1.0, 2.0, 3.0, 4.0],
        y: vec![0.0, 1.0, f64::NAN, 3.0, 4.0],
        color: TAB10[2],
        width: 3.0,
        ..Series::default()
    };
    let (cv, f) = render_canvas(&[s], &LineChartStyle::default()).unwrap();
    let is_line = |x: i32, y: i32| close(pixel(&cv, x, y), TAB10[2], 60);
    // Drawn before the gap...
    let (px, py) = f.to_px(0.5, 0.5);
    assert!(is_line(f.x0 + px as i32, f.y0 + py as i32));
    // ...but nothing of the series colour between x = 1.2 and 2.8.
    let (a, _) = f.to_px(1.2, 0.0);
    let (b, _) = f.to_px(2.8, 0.0);
    for x in a as i32..b as i32 {
        for y in 0..f.ph {
            let p = pixel(&cv, f.x0 + x, f.y0 + y);
            assert!(
                p == WHITE || p == GRID,
                "pixel ({x}, {y}) in the gap is {p:?}"
            );
        }
    }
}

#[test]
fn custom_x_ticks_and_vertical_line_extend_range() {
    let s = Series {
        x: vec![2010.0, 2011.0],
        y: vec![1.0, 2.0],
        ..Series::default()
    };
    let style = LineChartStyle {
        x_ticks: Some(vec![(2010.0, "2010".into()), (2050.0, "far".into())]),
        vertical_line: Some((2012.0, "start".into())),
        ..LineChartStyle::default()
    };
    let (_, f) = render_canvas(&[s], &style).unwrap();
    assert!(f.x.lo < 2010.0 && f.x.hi > 2012.0 && f.x.hi < 2013.0);
}

#[test]
fn band_is_a_translucent_fill_under_the_line_and_widens_the_axis() {
    let x: Vec<f64> = (0..11).map(f64::from).collect();
    let s = Series {
        x: x.clone(),
        y: vec![5.0; 11],
        color: TAB10[0],
        band: Some(Band {
            lower: vec![2.0; 11],
            upper: vec![8.0; 11],
            ..Band::default()
        }),
        ..Series::default()
    };
    let (cv, f) = render_canvas(std::slice::from_ref(&s), &LineChartStyle::default()).unwrap();
    // The axis covers the band, not only the line.
    assert!(f.y.lo < 2.0 && f.y.hi > 8.0, "{:?}", f.y);
    // Inside the band, away from the line: 20% of the colour over white.
    let (px, py) = f.to_px(3.0, 3.5);
    let p = pixel(&cv, f.x0 + px as i32, f.y0 + py as i32);
    let want = TAB10[0].map(|c| (255.0 * 0.8 + c as f64 * 0.2).round() as u8);
    assert!(close(p, want, 2), "{p:?} vs {want:?}");
    // Outside the band: white; on the line: the line's colour.
    let (px, py) = f.to_px(3.0, 8.2);
    assert_eq!(pixel(&cv, f.x0 + px as i32, f.y0 + py as i32), WHITE);
    let (px, py) = f.to_px(3.0, 5.0);
    assert!(close(
        pixel(&cv, f.x0 + px as i32, f.y0 + py as i32),
        TAB10[0],
        30
    ));
    // A band whose length differs from x is an error.
    let mut bad = s;
    bad.band.as_mut().unwrap().upper.pop();
    assert!(render_lines(&[bad], &LineChartStyle::default()).is_err());
}
