//! `report.html` in a real browser (headless Chromium, [`common::browser_check`]): a page
//! built by [`sstcast::report`] passes, and the checker fails a page with a broken image or
//! with anything to fetch from the network, so a pass means something. The pages of real
//! runs are checked where they are made (`forecast_ersst`, `hindcast`).

mod common;

use common::browser_check;
use sstcast::report::{Figure, Page, Section};

/// A real PNG: a `w` x `h` colour ramp.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(255 * x / w) as u8, (255 * y / h) as u8, 128])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn page() -> Page {
    Page {
        title: "Test page <with> \"markup\" & more".into(),
        summary: "Two figures, one table.".into(),
        sections: vec![Section {
            heading: "Skill".into(),
            markdown: format!(
                "Intro.\n\n| lead | {} |\n|---|{}\n| 1 | {} |\n",
                (0..14)
                    .map(|k| format!("method {k}"))
                    .collect::<Vec<_>>()
                    .join(" | "),
                "---:|".repeat(14),
                (0..14)
                    .map(|k| format!("0.{k:03}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        }],
        figures: vec![
            Figure {
                name: "wide.png".into(),
                caption: "A wide figure".into(),
                png: png(1400, 750),
            },
            Figure {
                name: "small.png".into(),
                caption: "A small figure".into(),
                png: png(120, 80),
            },
        ],
        provenance: vec![
            ("inputs".into(), "/a/very/long/path/".repeat(20)),
            ("key".into(), "0123456789abcdef".repeat(4)),
        ],
        config: Some((
            "p.yaml".into(),
            format!("name: x\n# {}\n", "long ".repeat(60)),
        )),
        files: vec!["a.nc".into()],
    }
}

fn check(html: &str, name: &str) -> Option<Result<String, String>> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.html"));
    std::fs::write(&path, html).unwrap();
    browser_check(&path, name)
}

#[test]
fn a_built_page_loads_every_image_without_errors() {
    let Some(r) = check(&page().to_html(), "built") else {
        return;
    };
    let text = r.unwrap_or_else(|e| panic!("{e}"));
    assert!(text.contains("2 image(s) checked"), "{text}");
}

#[test]
fn the_checker_fails_a_broken_image() {
    let mut p = page();
    // Keep the PNG header (the page still gives the size) and break the image data.
    let bad = &mut p.figures[1].png;
    let n = bad.len();
    for b in &mut bad[40..n - 20] {
        *b = !*b;
    }
    let Some(r) = check(&p.to_html(), "broken") else {
        return;
    };
    let text = r.expect_err("a broken image must fail the check");
    assert!(
        text.contains("image did not load: A small figure"),
        "{text}"
    );
    assert!(!text.contains("A wide figure"), "{text}");
}

#[test]
fn the_checker_fails_a_page_that_fetches_from_the_network() {
    let html = page().to_html().replacen(
        "src=\"data:image/png;base64,",
        "src=\"http://127.0.0.1:9/x.png#",
        1,
    );
    let Some(r) = check(&html, "network") else {
        return;
    };
    let text = r.expect_err("a network request must fail the check");
    assert!(
        text.contains("request leaves the page: http://127.0.0.1:9/x.png"),
        "{text}"
    );
    assert!(text.contains("Content Security Policy"), "{text}");
}
