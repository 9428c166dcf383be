//! The crate's top-level modules (`app`, `auth`, `config`, `db`, …) form
//! no import cycle, and storage stays below HTTP: read from the source,
//! every `crate::x` path (in `use` or inline, `crate::{x, y}` groups
//! included) and every `super::` chain that climbs to the crate root is an
//! edge from the module the file belongs to.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph(Path::new(SRC));
    // The reader sees the edges that must be there, so a reader that sees
    // nothing cannot pass.
    for (from, to) in [("app", "routes"), ("routes", "db"), ("routes", "state"), ("error", "db"), ("db", "time")] {
        assert!(g[from].contains(to), "expected the edge {from} -> {to}; the graph read: {}", show(&g));
    }
    if let Some(cycle) = find_cycle(&g) {
        panic!("the top-level modules form a cycle: {}\nthe graph: {}", cycle.join(" -> "), show(&g));
    }
}

#[test]
fn storage_does_not_depend_on_http() {
    let g = graph(Path::new(SRC));
    let http: BTreeSet<&str> = ["app", "auth", "error", "extract", "routes", "state"].into();
    let bad: Vec<&String> = g["db"].iter().filter(|m| http.contains(m.as_str())).collect();
    assert!(bad.is_empty(), "db uses the HTTP side: {bad:?}; storage errors are `db::DbError`, mapped in `error.rs`");
}

#[test]
fn the_check_finds_cycles_and_reads_paths() {
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let code = code_only(
        "use crate::{db::Db, error::{ApiError, ApiResult}};\n\
         // use crate::commented;\n\
         /* crate::blocked */ let s = \"crate::quoted\"; let c = '\"'; let q = '\\''; let r = r#\"crate::raw\"#;\n\
         fn f<'a>(x: &'a str) -> String { crate::time::rfc3339(0) }\n\
         pub(crate) fn g() {} pub(in crate::db) fn h() {}\n\
         use super::super::config::Config; use super::sibling;\n\
         mod tests { use super::super::super::mail; }",
    );
    let refs = referenced(&code, &path(&["routes", "catalogue"]));
    assert_eq!(refs, ["config", "db", "error", "mail", "time"].map(String::from).into(), "{code}");

    let mut g = Graph::new();
    for (a, b) in [("app", "routes"), ("routes", "db"), ("db", "config"), ("config", "auth"), ("auth", "db"), ("auth", "error")] {
        g.entry(a.into()).or_default().insert(b.into());
    }
    assert_eq!(find_cycle(&g).unwrap(), path(&["db", "config", "auth", "db"]));
    g.get_mut("config").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}

// ------------------------------------------------------------------ reading

/// Each top-level module's set of other top-level modules it names.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(f.strip_prefix(src).unwrap()).first().cloned())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut g: Graph = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for f in &files {
        let path = module_path(f.strip_prefix(src).unwrap());
        // The crate root only declares the modules; `main.rs` is another crate.
        let Some(from) = path.first().filter(|m| modules.contains(*m)) else { continue };
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        for to in referenced(&code, &path) {
            if &to != from && modules.contains(&to) {
                g.get_mut(from).unwrap().insert(to);
            }
        }
    }
    g
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `db/catalogue/mod.rs` → `[db, catalogue]`; `db/sync.rs` → `[db, sync]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The source with comments, string literals and char literals blanked
/// out, so that neither `"postgres://"` nor a doc comment naming
/// `crate::x` reads as code.
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        let prev_ident = i > 0 && ident(c[i - 1]);
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c[i] == 'r' && !prev_ident && (at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#'))) {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            while at(j) == '#' {
                j += 1;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#')) {
                j += 1;
            }
            i = j + 1 + hashes;
            out.push_str("\"\"");
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal ('x', '\n', '\'', '\u{1f}'); `'a` is a lifetime.
            i += if at(i + 1) == '\\' { 3 } else { 2 };
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn tokens(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_whitespace() {
            i += 1;
        } else if c[i].is_alphanumeric() || c[i] == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            out.push(c[i].to_string());
            i += 1;
        }
    }
    out
}

/// The top-level names a file's code reaches from the crate root: the
/// first segment after `crate::` (each item's, in a `crate::{…}` group),
/// or after a `super::` chain that climbs to the root. `file` is the file's
/// module path; inline `mod x { … }` blocks are followed.
fn referenced(code: &str, file: &[String]) -> BTreeSet<String> {
    let t = tokens(code);
    let is_ident = |s: &str| s.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut found = BTreeSet::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < t.len() {
        match t[i].as_str() {
            "{" => depth += 1,
            "}" => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            "mod" if t.get(i + 2).map(String::as_str) == Some("{") && t.get(i + 1).is_some_and(|n| is_ident(n)) => {
                inline.push((t[i + 1].clone(), depth + 1));
            }
            "crate" | "super" if t.get(i + 1).map(String::as_str) == Some("::") && (i == 0 || t[i - 1] != "::") => {
                // Where the path starts: the root, or the module `super`s climb to.
                let mut here: Vec<String> = file.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect();
                let mut j = i;
                if t[i] == "crate" {
                    here.clear();
                    j += 2;
                } else {
                    while t.get(j).map(String::as_str) == Some("super") && t.get(j + 1).map(String::as_str) == Some("::") {
                        here.pop();
                        j += 2;
                    }
                }
                if here.is_empty() {
                    match t.get(j).map(String::as_str) {
                        Some("{") => found.extend(group_heads(&t, j)),
                        Some(name) if is_ident(name) => {
                            found.insert(name.to_owned());
                        }
                        _ => {}
                    }
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The first segment of each item of the `{ … }` group opening at `open`.
fn group_heads(t: &[String], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for tok in &t[open..] {
        match tok.as_str() {
            "{" => {
                depth += 1;
                item_start = depth == 1;
            }
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => item_start = true,
            name if item_start && depth == 1 => {
                heads.push(name.to_owned());
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

// ------------------------------------------------------------------ cycles

/// A cycle of the graph as `[a, b, …, a]`, if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit<'a>(g: &'a Graph, n: &'a str, stack: &mut Vec<&'a str>, done: &mut BTreeSet<&'a str>) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|s| *s == n) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n);
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, next, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n);
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

fn show(g: &Graph) -> String {
    g.iter().map(|(m, to)| format!("\n  {m} -> {}", to.iter().map(String::as_str).collect::<Vec<_>>().join(", "))).collect()
}
