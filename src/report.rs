//! `report.html`: one self-contained page per run, from plain data (titles, Markdown tables,
//! PNG bytes, provenance strings).
//!
//! Why one HTML file and not a folder of PNGs and tables: the person who reads a forecast is
//! often not the one who ran it. They get one file by mail or chat, open it on a phone, and
//! print it for a meeting. So the page carries everything (every figure embedded as a `data:`
//! URI, the CSS inline, no script, no font, no link to load) and says so to the browser: a
//! Content-Security-Policy that allows only inline styles and `data:` images, so a page that
//! ever tried to load something from the network would be refused and show the error in the
//! console (the browser test fails on any console error). The CSS is responsive (figures in a
//! grid that collapses to one column, images `max-width: 100%`, wide tables scroll inside
//! their own box instead of widening the page) and has a print sheet (no navigation, figures
//! and tables not split across pages).
//!
//! Every text that comes from outside (file names, the pipeline file, product names, the
//! tables' cells) goes through [`escape`]; the tables arrive as the Markdown the run already
//! writes (`skill_<Y>.md`, `hindcast.md`) and are converted here ([`markdown`]: paragraphs,
//! `#` headings and pipe tables with their column alignment, the subset those files use), so
//! the page shows exactly the numbers of the files beside it. The module knows nothing of
//! forecasts: `crate::pipeline` decides what goes on the page.

use std::fmt::Write as _;

/// One figure of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// The file the figure was written to (shown under it, and its anchor).
    pub name: String,
    /// What it shows.
    pub caption: String,
    /// The PNG bytes.
    pub png: Vec<u8>,
}

/// One section of Markdown text (a skill table and its explanation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section's heading.
    pub heading: String,
    /// Its body, Markdown (paragraphs, `#` headings, pipe tables).
    pub markdown: String,
}

/// Everything on a report page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The page's title.
    pub title: String,
    /// One paragraph under the title.
    pub summary: String,
    /// The tables, in order.
    pub sections: Vec<Section>,
    /// The figures, in order.
    pub figures: Vec<Figure>,
    /// `(label, value)` rows of the provenance table.
    pub provenance: Vec<(String, String)>,
    /// The pipeline file: its name and its text, shown verbatim.
    pub config: Option<(String, String)>,
    /// The other files written beside the page.
    pub files: Vec<String>,
}

/// No network, no script: inline styles and `data:` images only.
const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const CSS: &str = r#"
:root { color-scheme: light; --line: #d0d4da; --muted: #5a6270; --band: #f4f6f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 0.75rem 1rem 3rem;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1c2330; background: #fff; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0.5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }
p { margin: 0.5rem 0; overflow-wrap: anywhere; }
.summary { color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 0;
  border-bottom: 1px solid var(--line); }
nav a { color: #1f5fa8; text-decoration: none; }
.scroll { overflow-x: auto; max-width: 100%; margin: 0.5rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.5rem; border-bottom: 1px solid var(--line); text-align: left;
  white-space: nowrap; }
th { background: var(--band); }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; background: #fff; }
.scroll th:first-child { background: var(--band); }
td.r, th.r { text-align: right; }
td.c, th.c { text-align: center; }
table.kv td { white-space: normal; overflow-wrap: anywhere; vertical-align: top; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
.figures { display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 30rem), 1fr)); }
figure { margin: 0; padding: 0.5rem; border: 1px solid var(--line); border-radius: 4px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: 0.85rem; color: var(--muted); margin-top: 0.35rem; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
pre { background: var(--band); padding: 0.75rem; font-size: 0.8rem; white-space: pre-wrap;
  overflow-wrap: anywhere; border-radius: 4px; }
ul.files { columns: 16rem; padding-left: 1.25rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; padding: 0.5rem 0.6rem 2rem; }
  h1 { font-size: 1.25rem; }
}
@media print {
  @page { margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  table, figure, pre { break-inside: avoid; }
  .figures { display: block; }
  figure { border: none; padding: 0; margin: 0 0 6mm; }
  figure img { max-height: 120mm; width: auto; }
}
"#;

impl Page {
    /// The page as one self-contained HTML document.
    pub fn to_html(&self) -> String {
        let mut s = String::with_capacity(
            8192 + self
                .figures
                .iter()
                .map(|f| f.png.len() * 4 / 3 + 256)
                .sum::<usize>(),
        );
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        if !self.summary.is_empty() {
            let _ = writeln!(s, "<p class=\"summary\">{}</p>", escape(&self.summary));
        }
        s.push_str("<nav>");
        let mut links: Vec<(&str, &str)> = Vec::new();
        if !self.sections.is_empty() {
            links.push(("skill", "Skill"));
        }
        if !self.figures.is_empty() {
            links.push(("figures", "Figures"));
        }
        links.push(("provenance", "Provenance"));
        for (id, text) in links {
            let _ = write!(s, "<a href=\"#{id}\">{text}</a>");
        }
        s.push_str("</nav>\n</header>\n<main>\n");
        if !self.sections.is_empty() {
            s.push_str("<section id=\"skill\">\n");
            for sec in &self.sections {
                let _ = writeln!(s, "<h2>{}</h2>", escape(&sec.heading));
                s.push_str(&markdown(&sec.markdown));
            }
            s.push_str("</section>\n");
        }
        if !self.figures.is_empty() {
            s.push_str("<section id=\"figures\">\n<h2>Figures</h2>\n<div class=\"figures\">\n");
            for f in &self.figures {
                figure(&mut s, f);
            }
            s.push_str("</div>\n</section>\n");
        }
        self.provenance_html(&mut s);
        s.push_str("</main>\n</body>\n</html>\n");
        s
    }

    fn provenance_html(&self, s: &mut String) {
        s.push_str("<section id=\"provenance\">\n<h2>Provenance</h2>\n");
        s.push_str("<div class=\"scroll\"><table class=\"kv\">\n");
        for (k, v) in &self.provenance {
            let _ = writeln!(s, "<tr><td>{}</td><td>{}</td></tr>", escape(k), escape(v));
        }
        s.push_str("</table></div>\n");
        if !self.files.is_empty() {
            s.push_str("<h3>Files written with this page</h3>\n<ul class=\"files\">\n");
            for f in &self.files {
                let _ = writeln!(s, "<li><code>{}</code></li>", escape(f));
            }
            s.push_str("</ul>\n");
        }
        if let Some((name, text)) = &self.config {
            let _ = writeln!(
                s,
                "<h3>Pipeline file <code>{}</code></h3>\n<pre>{}</pre>",
                escape(name),
                escape(text)
            );
        }
        s.push_str("</section>\n");
    }
}

/// One `<figure>`: the PNG as a `data:` URI, its pixel size (so the page does not jump while
/// it lays out), the caption and the file name.
fn figure(s: &mut String, f: &Figure) {
    let size = png_size(&f.png)
        .map(|(w, h)| format!(" width=\"{w}\" height=\"{h}\""))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "<figure id=\"{}\"><img src=\"data:image/png;base64,{}\" alt=\"{}\"{size}>\
         <figcaption>{} <code>{}</code></figcaption></figure>",
        escape(&anchor(&f.name)),
        base64(&f.png),
        escape(&f.caption),
        escape(&f.caption),
        escape(&f.name)
    );
}

/// An id from a file name: letters, digits, `-` and `_` kept, anything else `-`.
fn anchor(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("fig-{id}")
}

/// Width and height from a PNG's IHDR chunk; `None` for anything else.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    if png.len() < 24 || png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    Some((be(16), be(20)))
}

/// `text` safe in HTML content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Markdown the run's tables are written in, as HTML: blank-line separated paragraphs,
/// `#` headings (as `h3`), and pipe tables (header row, alignment row, body rows; `---:`
/// right-aligned, `:---:` centred) in a box that scrolls sideways on a narrow screen. Every
/// text is escaped; nothing else of Markdown is interpreted.
pub fn markdown(md: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
        } else if line.starts_with('|') {
            let start = i;
            while i < lines.len() && lines[i].trim().starts_with('|') {
                i += 1;
            }
            table(&mut out, &lines[start..i]);
        } else if let Some(h) = line.strip_prefix('#') {
            let _ = writeln!(out, "<h3>{}</h3>", escape(h.trim_start_matches('#').trim()));
            i += 1;
        } else {
            let mut para = Vec::new();
            while i < lines.len() {
                let l = lines[i].trim();
                if l.is_empty() || l.starts_with('|') || l.starts_with('#') {
                    break;
                }
                para.push(l);
                i += 1;
            }
            let _ = writeln!(out, "<p>{}</p>", escape(&para.join(" ")));
        }
    }
    out
}

/// The cells of one pipe-table row.
fn cells(row: &str) -> Vec<&str> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    row.split('|').map(str::trim).collect()
}

/// One pipe table; a block without an alignment row is all body rows.
fn table(out: &mut String, rows: &[&str]) {
    let is_rule = |r: &str| {
        cells(r)
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
    };
    let (head, align, body) = match rows {
        [h, a, rest @ ..] if is_rule(a) => (Some(*h), cells(a), rest),
        _ => (None, Vec::new(), rows),
    };
    let class = |k: usize| match align.get(k) {
        Some(a) if a.len() > 1 && a.starts_with(':') && a.ends_with(':') => " class=\"c\"",
        Some(a) if a.ends_with(':') => " class=\"r\"",
        _ => "",
    };
    out.push_str("<div class=\"scroll\"><table>\n");
    if let Some(h) = head {
        out.push_str("<thead><tr>");
        for (k, c) in cells(h).iter().enumerate() {
            let _ = write!(out, "<th{}>{}</th>", class(k), escape(c));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for r in body {
        out.push_str("<tr>");
        for (k, c) in cells(r).iter().enumerate() {
            let _ = write!(out, "<td{}>{}</td>", class(k), escape(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 PNG is not needed: any bytes starting like a PNG header of the given size.
    fn fake_png(w: u32, h: u32, tail: &[u8]) -> Vec<u8> {
        let mut v = vec![
            0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13,
        ];
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(tail);
        v
    }

    fn page() -> Page {
        Page {
            title: "sstcast <b>x</b> forecast".into(),
            summary: "a & b".into(),
            sections: vec![Section {
                heading: "Skill \"2018\"".into(),
                markdown: "Intro <script>alert(1)</script>\nsecond line.\n\n| lead | RMSE | c |\n|---|---:|:---:|\n| 1 | 0.343 | x<y |\n| mean | 0.5 | - |\n".into(),
            }],
            figures: vec![
                Figure {
                    name: "sst_forecast_2018.png".into(),
                    caption: "Forecast".into(),
                    png: fake_png(900, 500, b"one"),
                },
                Figure {
                    name: "series_\"evil\" <box>.png".into(),
                    caption: "Series of <box>".into(),
                    png: fake_png(10, 20, b"two"),
                },
            ],
            provenance: vec![("inputs".into(), "/data/<a>&'b'.nc".into())],
            config: Some(("p.yaml".into(), "name: x # <tag> & \"q\"\n".into())),
            files: vec!["sst_forecast_2018.nc".into(), "a<b>.tif".into()],
        }
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn every_input_text_is_escaped() {
        let html = page().to_html();
        for raw in [
            "<b>x</b>",
            "<script>",
            "x<y",
            "<a>&'b'",
            "<tag>",
            "\"evil\" <box>",
            "a<b>.tif",
            "a & b",
        ] {
            assert!(!html.contains(raw), "{raw} unescaped");
        }
        for escaped in [
            "sstcast &lt;b&gt;x&lt;/b&gt; forecast",
            "Intro &lt;script&gt;alert(1)&lt;/script&gt; second line.",
            "x&lt;y",
            "/data/&lt;a&gt;&amp;&#39;b&#39;.nc",
            "name: x # &lt;tag&gt; &amp; &quot;q&quot;",
            "alt=\"Series of &lt;box&gt;\"",
            "id=\"fig-series_-evil---box--png\"",
            "<code>a&lt;b&gt;.tif</code>",
        ] {
            assert!(html.contains(escaped), "{escaped} missing");
        }
        // The only tags are the page's own: no `<` from the input survives.
        assert_eq!(html.matches("<script").count(), 0);
    }

    #[test]
    fn every_figure_is_embedded_with_its_size() {
        let p = page();
        let html = p.to_html();
        for f in &p.figures {
            let uri = format!("src=\"data:image/png;base64,{}\"", base64(&f.png));
            assert_eq!(html.matches(&uri).count(), 1, "{}", f.name);
        }
        assert!(html.contains("width=\"900\" height=\"500\""));
        assert!(html.contains("width=\"10\" height=\"20\""));
        assert_eq!(html.matches("<figure ").count(), 2);
        // Nothing to fetch: no URL other than data: and the page's own anchors.
        for attr in ["src=\"", "href=\""] {
            for (at, _) in html.match_indices(attr) {
                let v = &html[at + attr.len()..];
                assert!(v.starts_with("data:") || v.starts_with('#'), "{}", &v[..20]);
            }
        }
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains("Content-Security-Policy"));
    }

    #[test]
    fn tables_become_html_tables_with_alignment() {
        let html = page().to_html();
        assert!(html.contains(
            "<thead><tr><th>lead</th><th class=\"r\">RMSE</th><th class=\"c\">c</th></tr></thead>"
        ));
        assert!(html
            .contains("<tr><td>1</td><td class=\"r\">0.343</td><td class=\"c\">x&lt;y</td></tr>"));
        assert!(
            html.contains("<tr><td>mean</td><td class=\"r\">0.5</td><td class=\"c\">-</td></tr>")
        );
        assert!(html.contains("<h2>Skill &quot;2018&quot;</h2>"));
        assert!(!html.contains("|---"), "the alignment row is not shown");
        let two = markdown(
            "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\ntext\n\n| x | y |\n|:---|---:|\n| 3 | 4 |\n",
        );
        assert_eq!(two.matches("<table>").count(), 2);
        assert!(two.contains("<h3>T</h3>") && two.contains("<p>text</p>"));
        assert!(two.contains("<td class=\"r\">4</td>"));
    }

    #[test]
    fn page_is_responsive_and_printable() {
        let html = page().to_html();
        assert!(html.contains("name=\"viewport\" content=\"width=device-width"));
        assert!(html.contains("max-width: 100%"));
        assert!(html.contains("@media print"));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
    }

    #[test]
    fn sections_appear_only_when_there_is_something_to_show() {
        let p = Page {
            title: "t".into(),
            ..Page::default()
        };
        let html = p.to_html();
        assert!(!html.contains("id=\"skill\"") && !html.contains("id=\"figures\""));
        assert!(html.contains("id=\"provenance\""));
        assert_eq!(png_size(b"not a png"), None);
    }
}
