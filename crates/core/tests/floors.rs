//! The floors of `crates/core`: which file may know about which. Every file
//! of `src/` stands on one floor and may use only files on its own floor or
//! below, and no files may use each other in a circle. This test reads every
//! `crate::…` path (and a provider's `super::…`) in `src/`, outside unit-test
//! modules, and fails when a file reaches up, when a file stands on no floor, or when imports go round
//! in a circle. The table below is the one place the floors are written; the
//! README's "Layout" section mirrors it.
//!
//! Run it alone with `cargo test -p latchkey-core --test floors`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, ground first. A module is its path under `src/` without `.rs`
/// (`providers/mod.rs` is `providers`); `providers/*` is every provider file.
const FLOORS: &[(&str, &[&str])] = &[
    // 1. Leaves: plain data, the words for errors and secrets, pure parsing.
    (
        "leaves",
        &[
            "clock", "env", "error", "jwt", "model", "process", "secret", "settings",
        ],
    ),
    // 2. Where things are kept and how a server is reached.
    (
        "storage and transport",
        &["http", "keyring_session", "renewal_lock", "store", "vault"],
    ),
    // 3. Protocols: pending logins, the token lifecycle, one file per login
    //    kind, and the helpers they share. Nothing here knows `Latchkey`.
    (
        "protocols",
        &[
            "dci",
            "flows",
            "oauth",
            "providers",
            "providers/*",
            "tokens",
        ],
    ),
    // 4. `Latchkey`, the one entry point, and what drives logins and renewals
    //    on it; the read-only token hand-off beside it.
    (
        "the service",
        &[
            "handoff", "login", "loopback", "renewal", "service", "signing",
        ],
    ),
    // 5. What the hosts ask of `Latchkey` beyond logins and tokens: the
    //    tray's menu, the window's first screen, export and import, tool
    //    credentials, the JWT inspector; and the fuzz targets' entry points,
    //    which reach every parser.
    (
        "features on the service",
        &[
            "fuzz_surface",
            "inspector",
            "screen",
            "tool_credentials",
            "transfer",
            "tray",
        ],
    ),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The floor (1 = the ground) of a module, if the table places it.
fn floor_of(module: &str) -> Option<usize> {
    FLOORS
        .iter()
        .position(|(_, modules)| {
            modules.iter().any(|m| {
                *m == module
                    || m.strip_suffix("/*").is_some_and(|dir| {
                        module
                            .strip_prefix(dir)
                            .is_some_and(|rest| rest.starts_with('/'))
                    })
            })
        })
        .map(|i| i + 1)
}

/// Every `.rs` file under `src/`, as module paths (`providers/quay`).
fn modules() -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut name = rel.to_string_lossy().replace('\\', "/");
                if let Some(dir) = name.strip_suffix("/mod") {
                    name = dir.to_string();
                }
                out.insert(name, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src_dir(), &src_dir(), &mut out);
    out
}

/// The text of a file without its comments (doc links name other modules
/// without using them) and without string literals.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            'r' if !out.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                && matches!(chars.peek(), Some('#' | '"')) =>
            {
                // A raw string: r"…", r#"…"#; or a name that starts with r.
                let mut hashes = 0;
                let mut ahead = chars.clone();
                while ahead.peek() == Some(&'#') {
                    ahead.next();
                    hashes += 1;
                }
                if ahead.next() != Some('"') {
                    out.push(c);
                    continue;
                }
                chars = ahead;
                let closing: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let mut seen = String::new();
                for c in chars.by_ref() {
                    seen.push(c);
                    if seen.ends_with(&closing) {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '"' => {
                // A string.
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A char literal ('a', '\n', '{') or a lifetime ('a): keep a
                // lifetime, drop a literal so that '{' opens no group.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') {
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                    }
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The code without its `#[cfg(test)] mod … { … }` blocks. A unit test is
/// built into no build of the crate and may drive its file from above (the
/// toy login kind's test goes through `Latchkey`): what it uses is no import
/// of the file. A `#[cfg(test)]` item that is not such a block stays.
fn without_test_modules(code: &str) -> String {
    const CFG_TEST: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(CFG_TEST) {
        out.push_str(&rest[..at]);
        let after = &rest[at + CFG_TEST.len()..];
        let item = after.trim_start();
        let item = item.strip_prefix("pub ").unwrap_or(item);
        let is_block = item.strip_prefix("mod ").is_some_and(|m| {
            let name = m.find(|c: char| !(c.is_alphanumeric() || c == '_'));
            m[name.unwrap_or(m.len())..].trim_start().starts_with('{')
        });
        if !is_block {
            out.push_str(CFG_TEST);
            rest = after;
            continue;
        }
        let open = after.find('{').unwrap();
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The paths a `use` group or path names, as segment lists, from the text
/// right after `crate::` (or `super::`).
fn paths_after(text: &str) -> Vec<Vec<String>> {
    fn ident(s: &str) -> (&str, &str) {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (&s[..end], &s[end..])
    }
    fn group(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        // `s` starts right after `{`; returns the bytes read up to the `}`.
        let mut i = 0;
        loop {
            let rest = s[i..].trim_start();
            i = s.len() - rest.len();
            if rest.starts_with('}') || rest.is_empty() {
                return i + 1;
            }
            if rest.starts_with(',') {
                i += 1;
                continue;
            }
            i += path(&s[i..], prefix.to_vec(), out);
        }
    }
    fn path(s: &str, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
        let mut i = 0;
        loop {
            let rest = &s[i..];
            if let Some(inner) = rest.strip_prefix('{') {
                return i + 1 + group(inner, &prefix, out);
            }
            let (name, after) = ident(rest);
            if name.is_empty() {
                out.push(prefix);
                return i;
            }
            i += name.len();
            if name != "self" {
                prefix.push(name.to_string());
            }
            if after.starts_with("::") {
                i += 2;
            } else {
                // Skip an `as alias` or a glob's `*`.
                out.push(prefix);
                let tail = after.trim_start();
                if let Some(alias) = tail.strip_prefix("as ") {
                    let (a, _) = ident(alias.trim_start());
                    return i
                        + (after.len() - tail.len())
                        + 3
                        + (alias.len() - alias.trim_start().len())
                        + a.len();
                }
                if tail.starts_with('*') {
                    return i + (after.len() - tail.len()) + 1;
                }
                return i;
            }
        }
    }
    let mut out = Vec::new();
    path(text, Vec::new(), &mut out);
    out
}

/// The module a `crate::` path lands in: the longest prefix that is a file,
/// or for a name the crate root re-exports, the module it comes from.
fn target_of(
    segments: &[String],
    modules: &BTreeMap<String, PathBuf>,
    root_exports: &BTreeMap<String, String>,
) -> Option<String> {
    for n in (1..=segments.len()).rev() {
        let candidate = segments[..n].join("/");
        if modules.contains_key(&candidate) {
            return Some(candidate);
        }
    }
    segments
        .first()
        .and_then(|first| root_exports.get(first).cloned())
}

/// What the crate root (`lib.rs`) re-exports, name → module.
fn root_exports() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    let code = code_of(&lib);
    let mut out = BTreeMap::new();
    for stmt in code.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        for segments in paths_after(rest) {
            if let (Some(module), Some(name)) = (segments.first(), segments.last()) {
                out.insert(name.clone(), module.clone());
            }
        }
    }
    out
}

/// Each module with the modules it uses (itself left out).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let root_exports = root_exports();
    let mut out = BTreeMap::new();
    for (module, path) in &modules {
        if module == "lib" {
            continue;
        }
        let code = without_test_modules(&code_of(&std::fs::read_to_string(path).unwrap()));
        let mut used = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            // `latchkey_core::` is no `crate::`.
            if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            for segments in paths_after(&code[i + "crate::".len()..]) {
                let target = target_of(&segments, &modules, &root_exports).unwrap_or_else(|| {
                    panic!(
                        "{module}: cannot tell which file crate::{} is",
                        segments.join("::")
                    )
                });
                used.insert(target);
            }
        }
        // In a file of a folder (`providers/quay`), `super::` is that
        // folder's module (a test module's `use super::*` is its own file).
        if let Some((parent, _)) = module.rsplit_once('/') {
            for (i, _) in code.match_indices("super::") {
                if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                if code[i + "super::".len()..].starts_with('*') {
                    continue;
                }
                for segments in paths_after(&code[i + "super::".len()..]) {
                    let mut whole: Vec<String> = parent.split('/').map(String::from).collect();
                    whole.extend(segments);
                    if let Some(target) = target_of(&whole, &modules, &root_exports) {
                        used.insert(target);
                    }
                }
            }
        }
        // A folder's module (`providers/mod.rs`) names its files by their
        // bare names: `github::spec`.
        let children: Vec<&String> = modules
            .keys()
            .filter(|m| m.rsplit_once('/').is_some_and(|(dir, _)| dir == module))
            .collect();
        for child in children {
            let name = child.rsplit_once('/').unwrap().1;
            let bare = format!("{name}::");
            for (i, _) in code.match_indices(&bare) {
                if !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                    used.insert(child.clone());
                }
            }
        }
        used.remove(module);
        out.insert(module.clone(), used);
    }
    out
}

#[test]
fn every_file_of_the_core_stands_on_a_floor() {
    let unplaced: Vec<String> = modules()
        .into_keys()
        .filter(|m| m != "lib" && floor_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "these files of crates/core/src stand on no floor: {unplaced:?}; add each to FLOORS in crates/core/tests/floors.rs (and the README's Layout) on the lowest floor that holds everything it uses"
    );
}

#[test]
fn no_file_of_the_core_uses_a_higher_floor() {
    let mut up = Vec::new();
    for (module, used) in imports() {
        let Some(floor) = floor_of(&module) else {
            continue;
        };
        for target in used {
            if let Some(target_floor) = floor_of(&target) {
                if target_floor > floor {
                    up.push(format!(
                        "{module} (floor {floor}, {}) uses {target} (floor {target_floor}, {})",
                        FLOORS[floor - 1].0,
                        FLOORS[target_floor - 1].0
                    ));
                }
            }
        }
    }
    assert!(
        up.is_empty(),
        "files that reach up a floor (move what they need down, or pass it in from above):\n{}",
        up.join("\n")
    );
}

#[test]
fn no_files_of_the_core_use_each_other_in_a_circle() {
    let imports = imports();
    // Depth-first search; a module met again while still on the path closes a circle.
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        circles: &mut Vec<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_string());
            circles.push(circle.join(" -> "));
            return;
        }
        path.push(module.to_string());
        for next in imports.get(module).into_iter().flatten() {
            visit(next, imports, path, done, circles);
        }
        path.pop();
        done.insert(module.to_string());
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for module in imports.keys() {
        visit(module, &imports, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(
        circles.is_empty(),
        "files that use each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_renamed_and_nested_imports() {
    let seen = |text: &str| -> Vec<String> {
        paths_after(text)
            .into_iter()
            .map(|p| p.join("::"))
            .collect()
    };
    assert_eq!(seen("vault::Secret;"), ["vault::Secret"]);
    assert_eq!(
        seen("{clock::{self, SharedClock}, tokens::{self as tok, IssuedToken}, Error};"),
        [
            "clock",
            "clock::SharedClock",
            "tokens",
            "tokens::IssuedToken",
            "Error"
        ]
    );
    assert_eq!(
        seen("store::write::ProfileRow>"),
        ["store::write::ProfileRow"]
    );
    assert_eq!(seen("providers::*;"), ["providers"]);
    let code = code_of("let s = \"crate::nope\"; // crate::nope\nuse crate::model::X; let c = '{'; let r = r#\"crate::nope \"quoted\" {\"#;");
    assert!(!code.contains("nope"), "{code}");
    assert!(code.contains("crate::model::X"), "{code}");
    let code = without_test_modules(&code_of(
        "use crate::a;\n#[cfg(test)]\nmod tests { use crate::service; fn f() { {} } }\n\
         #[cfg(test)] pub mod toy;\n#[cfg(test)] x::y();\nuse crate::b;",
    ));
    assert!(!code.contains("service"), "{code}");
    for kept in ["crate::a", "mod toy", "x::y", "crate::b"] {
        assert!(code.contains(kept), "{kept}: {code}");
    }
}
