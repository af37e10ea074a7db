//! The architecture of `src/`, written down and enforced.
//!
//! Why a test and not a diagram: a diagram goes stale the day someone adds a convenient
//! `use crate::pipeline::...` deep in a stage. This test reads every source file, finds what
//! each module imports (`use crate::x`, `crate::x::y` paths in code, `super::` chains that
//! leave a top-level module, `sstcast::x` in the binaries), ignoring comments, strings and
//! `#[cfg(test)]` code, and fails when
//!
//! - a module imports a module on its own layer or above it ([`LAYERS`]: data flow one way,
//!   bottom to top, so there can be no import cycle either; a cycle check reports one anyway,
//!   with its edges, should the table ever be loosened),
//! - a top-level module exists that the table does not place, or the table names one that
//!   does not exist (the table and the tree stay in sync),
//! - a file in `src/` is over [`MAX_FILE_LINES`] lines or a function over [`MAX_FN_LINES`]
//!   lines, unless [`LONG_FILES`] says why.
//!
//! The same table opens `src/lib.rs` and the README's code map. The checker is tested on
//! synthetic trees at the bottom of this file, so a checker that stopped seeing imports would
//! fail here too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom (0) to top. A module may import only modules on lower layers.
const LAYERS: &[(&str, &[&str])] = &[
    // ground floor: calendars, a stable hash, host and pid, error classes
    ("ground", &["time", "hash", "sys", "error_class"]),
    // the canonical in-memory SST cube
    ("grid", &["grid"]),
    // files in and out; drawing to PNG bytes
    ("io", &["io", "render"]),
    // cells -> regions; gaps, masks, normalisation; the networks
    ("data and model", &["region", "dataset", "model"]),
    // epoch loop, early stopping, optimiser, device
    ("train", &["train"]),
    // every region in parallel, ensembles (cache trait, stop hook)
    ("fit", &["fit"]),
    // the assembled forecast on the grid
    ("forecast", &["forecast"]),
    // skill against the references
    ("verify", &["verify"]),
    // which figures a run draws; lock, signals, checkpoints, shards; the HTML report page
    ("figures and operations", &["figures", "ops", "report"]),
    // config, run key, outputs, provenance, sessions
    ("pipeline", &["pipeline"]),
    // flags -> run config, exit codes; the benchmark harness
    ("front", &["cli", "bench"]),
    // the binaries (src/main.rs, src/bin/*.rs)
    ("binaries", &["main", "bin"]),
];

/// No file in `src/` is longer than this ...
const MAX_FILE_LINES: usize = 700;
/// ... and no function (tests included) longer than this.
const MAX_FN_LINES: usize = 150;
/// Files allowed over [`MAX_FILE_LINES`], with the reason.
const LONG_FILES: &[(&str, &str)] = &[];

#[test]
fn imports_point_down_only() {
    let tree = Tree::read(&src_dir());
    let problems = tree.layer_violations(&layer_of());
    assert!(
        problems.is_empty(),
        "imports against the layering (see LAYERS in tests/architecture.rs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_import_cycle() {
    let tree = Tree::read(&src_dir());
    let cycles = tree.cycles();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn layer_table_matches_the_tree() {
    let tree = Tree::read(&src_dir());
    let on_disk: BTreeSet<String> = tree.files.iter().map(|f| f.top.clone()).collect();
    let placed: BTreeSet<String> = layer_of().keys().cloned().collect();
    let unplaced: Vec<_> = on_disk.difference(&placed).collect();
    let missing: Vec<_> = placed.difference(&on_disk).collect();
    assert!(
        unplaced.is_empty() && missing.is_empty(),
        "modules not in LAYERS: {unplaced:?}; in LAYERS but not in src/: {missing:?}"
    );
}

#[test]
fn files_and_functions_stay_short() {
    let tree = Tree::read(&src_dir());
    let mut problems = Vec::new();
    for f in &tree.files {
        let lines = f.raw.lines().count();
        let allowed = LONG_FILES.iter().any(|(p, _)| Path::new(p) == f.rel);
        if lines > MAX_FILE_LINES && !allowed {
            problems.push(format!("{}: {lines} lines", f.rel.display()));
        }
        for (name, line, len) in long_functions(&f.clean, MAX_FN_LINES) {
            problems.push(format!(
                "{}:{line}: fn {name} is {len} lines",
                f.rel.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "over {MAX_FILE_LINES} lines per file or {MAX_FN_LINES} per function:\n{}",
        problems.join("\n")
    );
}

/// The README's code map names every top-level module and only paths that exist.
#[test]
fn readme_code_map_matches_the_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("## Code map")
        .expect("README has a `## Code map` section");
    let map = &readme[start..];
    let map = &map[..map[3..].find("\n## ").map_or(map.len(), |e| e + 3)];
    let named: Vec<&str> = map
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| t.starts_with("src/"))
        .collect();
    let missing: Vec<_> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "code map names paths that do not exist: {missing:?}"
    );
    let tree = Tree::read(&src_dir());
    let mut unnamed = BTreeSet::new();
    for f in &tree.files {
        let dir = Path::new("src").join(f.rel.iter().next().unwrap());
        let covered = named.iter().any(|p| {
            let p = Path::new(p.trim_end_matches('/'));
            dir.starts_with(p) || dir == p.with_extension("") || p.starts_with(&dir)
        });
        if !covered {
            unnamed.insert(dir.display().to_string());
        }
    }
    assert!(
        unnamed.is_empty(),
        "README code map does not name {unnamed:?}"
    );
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of() -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (i, (_, mods)) in LAYERS.iter().enumerate() {
        for name in *mods {
            m.insert(name.to_string(), i);
        }
    }
    m
}

/// One source file: where it sits and what it imports.
struct SourceFile {
    /// Path relative to `src/`.
    rel: PathBuf,
    /// The top-level module it belongs to (`main` and `bin` for the binaries, `lib` for
    /// `lib.rs`).
    top: String,
    raw: String,
    /// The text with comments, strings and character literals blanked (lines kept).
    clean: String,
    /// Top-level modules it names outside `#[cfg(test)]` code, with the line of each.
    imports: Vec<(String, usize)>,
}

struct Tree {
    files: Vec<SourceFile>,
}

impl Tree {
    fn read(src: &Path) -> Tree {
        let mut paths = Vec::new();
        walk(src, &mut paths);
        paths.sort();
        let mut files: Vec<SourceFile> = paths
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(src).unwrap().to_path_buf();
                let raw = std::fs::read_to_string(p).unwrap();
                SourceFile::parse(rel, raw)
            })
            .collect();
        // Files declared `#[cfg(test)] mod x;` are test code as a whole.
        let test_files: BTreeSet<PathBuf> = files.iter().flat_map(test_children).collect();
        files.retain(|f| !test_files.contains(&f.rel) && f.top != "lib");
        Tree { files }
    }

    fn layer_violations(&self, layer: &BTreeMap<String, usize>) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.files {
            let Some(&own) = layer.get(&f.top) else {
                continue; // reported by layer_table_matches_the_tree
            };
            for (m, line) in &f.imports {
                match layer.get(m) {
                    Some(&l) if l < own => {}
                    Some(&l) => out.push(format!(
                        "{}:{line}: `{}` (layer {own}, {}) imports `{m}` (layer {l}, {})",
                        f.rel.display(),
                        f.top,
                        LAYERS[own].0,
                        LAYERS[l].0
                    )),
                    None => out.push(format!(
                        "{}:{line}: imports `{m}`, which is not in LAYERS",
                        f.rel.display()
                    )),
                }
            }
        }
        out
    }

    /// Import cycles among top-level modules, each as its edges with file and line.
    fn cycles(&self) -> Vec<String> {
        let mut edges: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
        for f in &self.files {
            for (m, line) in &f.imports {
                edges
                    .entry(f.top.as_str())
                    .or_default()
                    .entry(m.as_str())
                    .or_insert_with(|| format!("{}:{line}", f.rel.display()));
            }
        }
        let mut found = BTreeSet::new();
        for &start in edges.keys() {
            let mut path = vec![start];
            cycle_from(&edges, start, &mut path, &mut found);
        }
        found
            .into_iter()
            .map(|c: Vec<&str>| {
                let hops: Vec<String> = c
                    .windows(2)
                    .map(|w| format!("{} -> {} ({})", w[0], w[1], edges[w[0]][w[1]]))
                    .collect();
                hops.join(", ")
            })
            .collect()
    }
}

/// Depth-first search for cycles through `path[0]`, recorded once each (rotated so that
/// the smallest name starts).
fn cycle_from<'a>(
    edges: &BTreeMap<&'a str, BTreeMap<&'a str, String>>,
    node: &'a str,
    path: &mut Vec<&'a str>,
    found: &mut BTreeSet<Vec<&'a str>>,
) {
    for &next in edges.get(node).map(|m| m.keys()).into_iter().flatten() {
        if next == path[0] {
            let body = &path[..];
            let min = (0..body.len()).min_by_key(|&i| body[i]).unwrap();
            let mut c: Vec<&str> = body[min..].iter().chain(&body[..min]).copied().collect();
            c.push(c[0]);
            found.insert(c);
        } else if !path.contains(&next) && next > path[0] {
            path.push(next);
            cycle_from(edges, next, path, found);
            path.pop();
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

impl SourceFile {
    fn parse(rel: PathBuf, raw: String) -> SourceFile {
        let parts: Vec<String> = rel
            .with_extension("")
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        let top = parts[0].clone();
        // The module path of the file, for resolving `super::`.
        let mut module = parts.clone();
        if module.last().is_some_and(|s| s == "mod") {
            module.pop();
        }
        let is_binary = top == "main" || top == "bin";
        let clean = blank_comments_and_strings(&raw);
        let code = blank_cfg_test(&clean);
        let imports = find_imports(&code, &module, is_binary)
            .into_iter()
            .filter(|(m, _)| *m != top)
            .collect();
        SourceFile {
            rel,
            top,
            raw,
            clean,
            imports,
        }
    }
}

/// The files a file declares as `#[cfg(test)] mod name;`.
fn test_children(f: &SourceFile) -> Vec<PathBuf> {
    let dir = match f.rel.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs") | Some("lib.rs") | Some("main.rs") => f.rel.parent().unwrap().to_path_buf(),
        _ => f.rel.with_extension(""),
    };
    let words: Vec<&str> = f.clean.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if *w != "#[cfg(test)]" {
            continue;
        }
        let mut j = i + 1;
        if words.get(j).is_some_and(|w| w.starts_with("pub")) {
            j += 1;
        }
        if words.get(j) == Some(&"mod") {
            if let Some(name) = words.get(j + 1).and_then(|n| n.strip_suffix(';')) {
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

/// Replaces comments, string literals (plain, byte, raw) and character literals by spaces,
/// keeping newlines, so that what remains is code with the same line numbers.
fn blank_comments_and_strings(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out: Vec<char> = c.clone();
    let blank = |out: &mut Vec<char>, a: usize, b: usize| {
        for ch in &mut out[a..b.min(c.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            let end = (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len());
            blank(&mut out, i, end);
            i = end;
        } else if c[i] == '/' && next == Some('*') {
            let (mut depth, mut k) = (1, i + 2);
            while k < c.len() && depth > 0 {
                if c[k] == '/' && c.get(k + 1) == Some(&'*') {
                    depth += 1;
                    k += 2;
                } else if c[k] == '*' && c.get(k + 1) == Some(&'/') {
                    depth -= 1;
                    k += 2;
                } else {
                    k += 1;
                }
            }
            blank(&mut out, i, k);
            i = k;
        } else if c[i] == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&c, i) {
            let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
            if c.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let close: Vec<char> = close.chars().collect();
            let mut k = i + 2 + hashes;
            while k < c.len() && c[k..].iter().take(close.len()).ne(close.iter()) {
                k += 1;
            }
            blank(&mut out, i, k + close.len());
            i = k + close.len();
        } else if c[i] == '"' {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, k + 1);
            i = k + 1;
        } else if c[i] == '\'' {
            // A character literal ('x', '\n', '\u{..}', '"') or a lifetime ('a).
            if next == Some('\\') {
                let k = (i + 2..c.len()).find(|&k| c[k] == '\'').unwrap_or(c.len());
                blank(&mut out, i, k + 1);
                i = k + 1;
            } else if c.get(i + 2) == Some(&'\'') {
                blank(&mut out, i, i + 3);
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// Blanks every item that follows `#[cfg(test)]`: up to its `;` or its matching `}`.
fn blank_cfg_test(s: &str) -> String {
    let mut out: Vec<char> = s.chars().collect();
    let pat: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + pat.len() <= out.len() {
        if out[i..i + pat.len()] != pat[..] {
            i += 1;
            continue;
        }
        let mut k = i + pat.len();
        let mut depth = 0usize;
        while k < out.len() {
            match out[k] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            k += 1;
        }
        let stop = (k + 1).min(out.len());
        for ch in &mut out[i..stop] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = k + 1;
    }
    out.into_iter().collect()
}

/// The top-level modules named in `code`, with their lines.
fn find_imports(code: &str, module: &[String], is_binary: bool) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let roots: &[&str] = if is_binary {
            &["sstcast::"]
        } else {
            &["crate::"]
        };
        for root in roots {
            for (pos, _) in line.match_indices(root) {
                if ident_before(&line.chars().collect::<Vec<_>>(), char_index(line, pos)) {
                    continue;
                }
                for m in first_segments(code, line_offset(code, n) + pos + root.len()) {
                    out.push((m, n + 1));
                }
            }
        }
        // `super::super::x` that climbs out of the top-level module names `x` at the root.
        for (pos, _) in line.match_indices("super::") {
            if pos >= 7 && &line[pos - 7..pos] == "super::" {
                continue; // counted from the first `super::` of the chain
            }
            let mut ups = 0;
            while line[pos + ups * 7..].starts_with("super::") {
                ups += 1;
            }
            if ups >= module.len() {
                let after = pos + ups * "super::".len();
                for m in first_segments(code, line_offset(code, n) + after) {
                    out.push((m, n + 1));
                }
            }
        }
    }
    out
}

fn char_index(line: &str, byte: usize) -> usize {
    line[..byte].chars().count()
}

fn line_offset(code: &str, n: usize) -> usize {
    code.split_inclusive('\n').take(n).map(str::len).sum()
}

/// The first path segment after a `crate::`: one name, or each name of a `{a, b::c}` group.
fn first_segments(code: &str, at: usize) -> Vec<String> {
    let rest = &code[at..];
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(group) = rest.trim_start().strip_prefix('{') {
        let mut depth = 0;
        let mut names = Vec::new();
        let mut start = 0;
        for (i, ch) in group.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        names.retain(|n| !n.is_empty() && n != "self");
        names
    } else {
        vec![ident(rest)]
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect()
    }
}

/// Functions longer than `max` lines: (name, first line, length), from `fn` to its `}`.
fn long_functions(clean: &str, max: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = clean.lines().collect();
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "fn") else {
            continue;
        };
        let Some(name) = words.get(at + 1) else {
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue; // `fn(` types
        }
        // Find the body: the first `{` before any `;` at depth 0 of parentheses.
        let mut depth = 0i64;
        let mut opened = false;
        let mut end = None;
        'scan: for (k, l) in lines.iter().enumerate().skip(n) {
            let text = if k == n {
                &l[l.find("fn").unwrap()..]
            } else {
                l
            };
            for ch in text.chars() {
                match ch {
                    ';' if !opened => break 'scan,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth -= 1;
                        if opened && depth == 0 {
                            end = Some(k);
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(end) = end {
            let len = end - n + 1;
            if len > max {
                out.push((name, n + 1, len));
            }
        }
    }
    out
}

// The checker itself, on synthetic trees: each rule must be able to fail.

fn synthetic(files: &[(&str, &str)]) -> (tempdir::Dir, Tree) {
    let dir = tempdir::Dir::new();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let tree = Tree::read(dir.path());
    (dir, tree)
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(std::path::PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "sstcast-arch-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }

        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn checker_sees_an_upward_import_in_each_form() {
    let forms = [
        "use crate::pipeline::RunConfig;\n",
        "use crate::{grid::Cube, pipeline::RunConfig};\n",
        "fn f() -> usize { crate::pipeline::THREADS }\n",
        "use crate::{\n    grid,\n    pipeline::{self, key},\n};\n",
    ];
    for form in forms {
        let (_d, tree) = synthetic(&[("grid.rs", "pub struct Cube;\n"), ("fit.rs", form)]);
        let v = tree.layer_violations(&layer_of());
        assert_eq!(v.len(), 1, "{form:?}: {v:?}");
        assert!(v[0].starts_with("fit.rs:"), "{v:?}");
        assert!(v[0].contains("imports `pipeline`"), "{v:?}");
    }
}

#[test]
fn checker_sees_super_chains_leaving_the_module_and_binaries() {
    let (_d, tree) = synthetic(&[
        (
            "io/netcdf/read.rs",
            "use super::super::super::fit::RegionFit;\n",
        ),
        (
            "io/netcdf/write.rs",
            "use super::super::atomic::write_atomic;\n",
        ),
        ("main.rs", "use sstcast::pipeline::run;\n"),
        ("bin/tool.rs", "use sstcast::{cli, time};\n"),
    ]);
    let v = tree.layer_violations(&layer_of());
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("io/netcdf/read.rs:1") && v[0].contains("`fit`"));
}

#[test]
fn checker_ignores_comments_strings_and_test_code() {
    let fit = r##"
//! See [`crate::pipeline`] for who calls this.
/* crate::pipeline in a block comment */
const A: &str = "crate::pipeline";
const B: &str = r#"use crate::pipeline;"#;
const C: char = '"'; const D: &str = "crate::ops";
fn f<'a>(x: &'a str) -> &'a str { x }
#[cfg(test)]
use crate::pipeline::RunConfig;
#[cfg(test)]
mod tests {
    use crate::pipeline::key;
}
#[cfg(test)]
mod more;
"##;
    let (_d, tree) = synthetic(&[
        ("fit.rs", fit),
        ("fit/more.rs", "use crate::pipeline::key;\n"),
    ]);
    assert_eq!(tree.layer_violations(&layer_of()), Vec::<String>::new());
    // Code after a test block is still read.
    let (_d, tree) = synthetic(&[("fit.rs", &format!("{fit}use crate::ops::lock;\n"))]);
    let v = tree.layer_violations(&layer_of());
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].starts_with("fit.rs:16:"), "{v:?}");
}

#[test]
fn checker_reports_cycles_and_long_functions() {
    let (_d, tree) = synthetic(&[
        ("grid.rs", "use crate::io::x;\n"),
        ("io/mod.rs", "pub fn x() { crate::grid::y() }\n"),
    ]);
    let cycles = tree.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(cycles[0].starts_with("grid -> io (grid.rs:1), io -> grid (io/mod.rs:1)"));

    let body = "    let x = 1;\n".repeat(MAX_FN_LINES - 1);
    let short = format!(
        "fn ok() {{\n{}}}\n",
        "    let x = \"{\";\n".repeat(MAX_FN_LINES - 2)
    );
    let long = format!("pub(crate) fn too_long(\n    a: u8,\n) -> u8 {{\n{body}}}\n");
    let text = blank_comments_and_strings(&format!("{short}{long}"));
    assert_eq!(
        long_functions(&text, MAX_FN_LINES),
        vec![("too_long".to_string(), MAX_FN_LINES + 1, MAX_FN_LINES + 3)]
    );
}
