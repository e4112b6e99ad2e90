//! ARCHITECTURE.md's rules, checked against the code's own `crate::` paths.
//!
//! The layers are read from the ```` ```layers ```` block of ARCHITECTURE.md, so the document
//! and this test cannot drift apart: a module may name only modules of a lower layer (never
//! one of its own layer, never one above), no two files may import each other in a circle,
//! and the few rules inside a domain (`app::view` is plain data; `app` and `ui` do no I/O)
//! hold. Test code (`#[cfg(test)]` items) is exempt, as are comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One source file: its module path (`["app", "view", "layout"]`) and its text.
type Files = BTreeMap<Vec<String>, String>;

fn read_src() -> Files {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Files::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().with_extension("");
                let mut module: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                    module.pop();
                }
                files.insert(module, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

/// The layers, top first: each line of the ```` ```layers ```` block names the top-level
/// modules of one layer.
fn layers_from(doc: &str) -> Vec<Vec<String>> {
    let start = doc
        .find("```layers\n")
        .expect("ARCHITECTURE.md has a ```layers block");
    let body = &doc[start + "```layers\n".len()..];
    let body = &body[..body.find("```").expect("the layers block is closed")];
    body.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Drops comments, string literals' contents and `#[cfg(test)]` items.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(text.len() - i, |e| e + 2);
        } else if text[i..].starts_with("#[cfg(test)]") {
            // Skip the attribute and the item it opens: to the matching brace, or a `;` first.
            let rest = &text[i..];
            let brace = rest.find('{');
            let semi = rest.find(';');
            match (brace, semi) {
                (Some(b), Some(s)) if s < b => i += s + 1,
                (None, Some(s)) => i += s + 1,
                (Some(b), _) => {
                    let mut depth = 0;
                    let mut j = i + b;
                    while j < bytes.len() {
                        match bytes[j] {
                            b'{' => depth += 1,
                            b'}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j + 1;
                }
                (None, None) => i = bytes.len(),
            }
        } else if bytes[i] == b'"' && !text[..i].ends_with('\'') {
            out.push('"');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            out.push('"');
            i += 1;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every module path a file names through `crate::…`, `super::…` or `use crate::{…}`,
/// resolved to the longest file that exists (its own parents included).
fn imports(module: &[String], text: &str, files: &Files) -> BTreeSet<Vec<String>> {
    let code = code_only(text);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(pos) = rest
        .find("crate::")
        .into_iter()
        .chain(rest.find("super::"))
        .min()
    {
        let before = &rest[..pos];
        let word_start = before
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let tail = &rest[pos..];
        rest = &rest[pos + 1..];
        if !word_start {
            continue;
        }
        let (mut base, after): (Vec<String>, &str) = if let Some(t) = tail.strip_prefix("crate::") {
            (Vec::new(), t)
        } else {
            let mut t = tail;
            let mut up = 0;
            while let Some(x) = t.strip_prefix("super::") {
                up += 1;
                t = x;
            }
            // `super` of a `mod.rs` file is its directory's parent, like any other file's.
            (module[..module.len().saturating_sub(up)].to_vec(), t)
        };
        let path: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        base.extend(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        let mut targets = vec![base.clone()];
        if after[path.len()..].starts_with('{') {
            let group = &after[path.len() + 1..];
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let item = item.trim().split(" as ").next().unwrap_or("").trim();
                if item.is_empty() || item == "self" || item == "*" {
                    continue;
                }
                let mut t = base.clone();
                t.extend(item.split("::").map(str::to_string));
                targets.push(t);
            }
        }
        for t in targets {
            if let Some(file) = (1..=t.len())
                .rev()
                .map(|k| &t[..k])
                .find(|p| files.contains_key(*p))
                && file != module
            {
                found.insert(file.to_vec());
            }
        }
    }
    found
}

fn edges(files: &Files) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    files
        .iter()
        .map(|(m, text)| (m.clone(), imports(m, text, files)))
        .collect()
}

/// The import graph for cycles: a file naming its own parent module (`use super::Item`)
/// is how Rust modules reach their domain's types, not a circle.
fn edges_without_parents(files: &Files) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    edges(files)
        .into_iter()
        .map(|(m, tos)| {
            let tos = tos
                .into_iter()
                .filter(|t| !(t.len() < m.len() && m.starts_with(t)))
                .collect();
            (m, tos)
        })
        .collect()
}

fn show(m: &[String]) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

/// Imports that break the layering: each as "from -> to (why)".
fn layer_violations(files: &Files, layers: &[Vec<String>]) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (m.as_str(), layers.len() - i)))
        .collect();
    let mut bad = Vec::new();
    for (from, tos) in edges(files) {
        let Some(top) = from.first() else { continue };
        let Some(&r_from) = rank.get(top.as_str()) else {
            bad.push(format!("{} is in no layer of ARCHITECTURE.md", show(&from)));
            continue;
        };
        for to in tos {
            let other = &to[0];
            if other == top {
                // Inside a domain: app::view is plain data, shared by app and ui.
                if from.starts_with(&["app".to_string(), "view".to_string()])
                    && !to.starts_with(&["app".to_string(), "view".to_string()])
                {
                    bad.push(format!(
                        "{} -> {} (app::view names the rest of app)",
                        show(&from),
                        show(&to)
                    ));
                }
                continue;
            }
            match rank.get(other.as_str()) {
                Some(&r_to) if r_to < r_from => {}
                Some(&r_to) if r_to == r_from => {
                    bad.push(format!("{} -> {} (same layer)", show(&from), show(&to)))
                }
                Some(_) => bad.push(format!("{} -> {} (upward)", show(&from), show(&to))),
                None => bad.push(format!("{} -> {} (no layer)", show(&from), show(&to))),
            }
        }
    }
    bad
}

/// Sets of files that import each other in a circle (Tarjan's strongly connected components).
fn cycles(files: &Files) -> Vec<Vec<String>> {
    let graph = edges_without_parents(files);
    let names: Vec<&Vec<String>> = graph.keys().collect();
    let id: BTreeMap<&Vec<String>, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adj: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            graph[*n]
                .iter()
                .filter_map(|t| id.get(t).copied())
                .collect()
        })
        .collect();
    struct Tarjan<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on[v] = true;
            for &w in &self.adj[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    self.out.push(comp);
                }
            }
        }
    }
    let n = names.len();
    let mut t = Tarjan {
        adj: &adj,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.out
        .into_iter()
        .map(|c| {
            let mut c: Vec<String> = c.into_iter().map(|i| show(names[i])).collect();
            c.sort();
            c
        })
        .collect()
}

/// Files of `domain` whose code names one of `words` (I/O that the domain promises not to do).
fn io_in(files: &Files, domain: &str, words: &[&str]) -> Vec<String> {
    files
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|t| t == domain))
        .flat_map(|(m, text)| {
            let code = code_only(text);
            words
                .iter()
                .filter(move |w| code.contains(**w))
                .map(move |w| format!("{} names {w}", show(m)))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn architecture_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap()
}

#[test]
fn every_import_points_down_the_layers_of_architecture_md() {
    let files = read_src();
    let layers = layers_from(&architecture_md());
    let bad = layer_violations(&files, &layers);
    assert!(
        bad.is_empty(),
        "imports against ARCHITECTURE.md's layers:\n{}",
        bad.join("\n")
    );
    // Every top-level entry of src/ sits in a layer, and every layer names something real.
    let tops: BTreeSet<&String> = files.keys().filter_map(|m| m.first()).collect();
    for layer in &layers {
        for m in layer {
            assert!(
                tops.contains(m),
                "ARCHITECTURE.md names a layer module {m} that src/ lacks"
            );
        }
    }
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let found = cycles(&read_src());
    assert!(found.is_empty(), "import cycles between files: {found:?}");
}

#[test]
fn the_state_and_the_panels_do_no_io() {
    let io = [
        "std::fs",
        "std::net",
        "tokio::",
        "reqwest",
        "std::process",
        "tokio_postgres",
    ];
    let mut found = io_in(&read_src(), "app", &io);
    found.extend(io_in(&read_src(), "ui", &io));
    assert!(found.is_empty(), "I/O in app or ui: {found:?}");
}

#[test]
fn the_top_of_src_is_about_a_dozen_entries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let n = std::fs::read_dir(root).unwrap().count();
    assert!(n <= 18, "src/ has {n} top-level entries");
}

fn synthetic(entries: &[(&str, &str)]) -> Files {
    entries
        .iter()
        .map(|(m, t)| {
            let module = m
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            (module, t.to_string())
        })
        .collect()
}

#[test]
fn the_checker_catches_a_wrong_import_and_a_cycle() {
    let layers = layers_from("```layers\nui\napp   # state\nmodel\n```\n");
    assert_eq!(layers.len(), 3);
    let files = synthetic(&[
        ("", "pub mod app; pub mod ui; pub mod model;"),
        ("app", "use crate::model::Lsn;\nuse crate::ui::draw;\n"),
        ("app::view", "use crate::app::App;\n"),
        (
            "ui",
            "use crate::{app::App, model};\n// use crate::nothing::here;\n",
        ),
        (
            "model",
            "#[cfg(test)]\nmod tests { use crate::app::App; }\n/// [`crate::ui`]\nfn f() {}\n",
        ),
    ]);
    let bad = layer_violations(&files, &layers);
    assert_eq!(
        bad,
        vec![
            "app -> ui (upward)".to_string(),
            "app::view -> app (app::view names the rest of app)".to_string(),
        ],
        "comments, doc links and test code are exempt; the wrong imports are named"
    );
    let cyc = cycles(&synthetic(&[
        ("a", "use crate::b::X;"),
        ("b", "use super::a::Y;"),
        ("c", "use crate::a;"),
    ]));
    assert_eq!(cyc, vec![vec!["a".to_string(), "b".to_string()]]);
}

#[test]
fn a_same_layer_import_is_refused() {
    let layers = layers_from("```layers\nui recording\nmodel\n```");
    let files = synthetic(&[
        ("ui", "use crate::recording::Entry;"),
        ("recording", ""),
        ("model", ""),
    ]);
    assert_eq!(
        layer_violations(&files, &layers),
        vec!["ui -> recording (same layer)".to_string()]
    );
}
