//! Checks of what the page may do. The capability files under
//! `src-tauri/capabilities/` grant permissions to the window; every grant
//! must be used by the UI (a grant nobody uses is attack surface for nothing),
//! every command the UI calls must be granted (or it fails at run time), and
//! the content security policy in `tauri.conf.json` must forbid inline and
//! evaluated scripts and every origin but the app's own and its IPC.
//! Tests only; the e2e test `tests/e2e/security.test.mjs` checks the same
//! policy in the real window.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every permission granted by every capability file, with the file's name.
fn granted() -> Vec<(String, String)> {
    let dir = root().join("src-tauri/capabilities");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{file} is not JSON (only JSON capability files are checked): {e}")
        });
        for permission in json["permissions"].as_array().unwrap() {
            // A permission is a name, or an object with an identifier and scopes.
            let name = permission
                .as_str()
                .or_else(|| permission["identifier"].as_str())
                .unwrap_or_else(|| panic!("{file}: a permission without a name: {permission}"));
            all.push((file.clone(), name.to_string()));
        }
    }
    assert!(
        !all.is_empty(),
        "no capability file under {}",
        dir.display()
    );
    all
}

/// The UI's sources, except the generated bindings (which declare every
/// command whether or not anything calls it).
fn ui_sources() -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("ts" | "svelte" | "js")
            ) && !path.ends_with("ipc/bindings.ts")
            {
                out.insert(path.clone(), std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&root().join("ui/src"), &mut out);
    out
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' || c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        boundary(before) && boundary(after)
    })
}

/// The Rust commands the UI really calls: `commands.x` in a module other
/// than `ipc/api.ts`, or in an `api.ts` wrapper that something else uses.
fn commands_called(sources: &BTreeMap<PathBuf, String>) -> BTreeMap<String, String> {
    let mut called = BTreeMap::new();
    let find = |text: &str| -> Vec<String> {
        text.match_indices("commands.")
            .map(|(at, m)| {
                text[at + m.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty())
            .collect()
    };
    for (path, text) in sources {
        if path.ends_with("ipc/api.ts") {
            for chunk in text.split("export const ").skip(1) {
                let wrapper: String = chunk
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let used_by = sources
                    .iter()
                    .filter(|(p, _)| !p.ends_with("ipc/api.ts"))
                    .find(|(_, t)| contains_word(t, &wrapper));
                if let Some((user, _)) = used_by {
                    for command in find(chunk) {
                        called.insert(command, format!("api.{wrapper} in {}", user.display()));
                    }
                }
            }
        } else {
            for command in find(text) {
                called.insert(command, path.display().to_string());
            }
        }
    }
    called
}

/// Whether the UI uses a plugin or core permission, and where. A permission
/// this table does not know fails the test: say here how the UI uses it.
fn plugin_permission_use(
    permission: &str,
    sources: &BTreeMap<PathBuf, String>,
) -> Option<Result<String, String>> {
    let evidence: &[&str] = match permission {
        // Listening returns the function that unlistens: both or neither.
        "core:event:allow-listen" | "core:event:allow-unlisten" => {
            &[".listen(", "listen<", "listen("]
        }
        p if p.starts_with("allow-") => return None,
        _ => {
            return Some(Err(format!(
                "{permission} is granted, but this test does not know how the UI would use it: \
                 add it to plugin_permission_use (or remove the grant)"
            )))
        }
    };
    Some(
        sources
            .iter()
            .find(|(_, text)| evidence.iter().any(|e| text.contains(e)))
            .map(|(path, _)| path.display().to_string())
            .ok_or_else(|| format!("{permission} is granted but the UI never listens to an event")),
    )
}

#[test]
fn every_granted_permission_is_used_by_the_ui_and_every_call_is_granted() {
    let sources = ui_sources();
    let called = commands_called(&sources);
    let registered: BTreeSet<String> = {
        let list: Vec<&str> = include!("commands.list").to_vec();
        list.into_iter().map(str::to_string).collect()
    };
    let mut problems = Vec::new();
    let mut granted_commands = BTreeSet::new();
    let mut report = Vec::new();
    for (file, permission) in granted() {
        match plugin_permission_use(&permission, &sources) {
            Some(Ok(place)) => report.push(format!("{file}: {permission} (used in {place})")),
            Some(Err(problem)) => problems.push(format!("{file}: {problem}")),
            None => {
                let command = permission["allow-".len()..].replace('-', "_");
                if !registered.contains(&command) {
                    problems.push(format!(
                        "{file}: {permission} grants `{command}`, which is not in src-tauri/commands.list"
                    ));
                    continue;
                }
                granted_commands.insert(command.clone());
                match called.get(&camel(&command)) {
                    Some(place) => report.push(format!("{file}: {permission} (used by {place})")),
                    None => problems.push(format!(
                        "{file}: {permission} is granted, but the UI never calls `{command}` \
                         (commands.{}): remove the grant until it does",
                        camel(&command)
                    )),
                }
            }
        }
    }
    for (command, place) in &called {
        let snake: String = command
            .chars()
            .flat_map(|c| {
                if c.is_uppercase() {
                    vec!['_', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect();
        if !granted_commands.contains(&snake) {
            problems.push(format!(
                "the UI calls `{snake}` ({place}) but no capability grants allow-{}",
                snake.replace('_', "-")
            ));
        }
    }
    println!(
        "{} grants, each used:\n  {}",
        report.len(),
        report.join("\n  ")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The directives of the CSP in `tauri.conf.json`.
fn csp() -> BTreeMap<String, Vec<String>> {
    let conf: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tauri.conf.json")).unwrap())
            .unwrap();
    let csp = &conf["app"]["security"]["csp"];
    let directives: BTreeMap<String, Vec<String>> = match csp {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let sources = v.as_str().expect("a directive's sources are one string");
                (
                    k.clone(),
                    sources.split_whitespace().map(str::to_string).collect(),
                )
            })
            .collect(),
        Value::String(text) => text
            .split(';')
            .filter_map(|d| {
                let mut words = d.split_whitespace().map(str::to_string);
                Some((words.next()?, words.collect()))
            })
            .collect(),
        other => panic!("tauri.conf.json has no CSP ({other}): the page could load anything"),
    };
    directives
}

#[test]
fn the_csp_forbids_inline_and_evaluated_scripts_and_remote_origins() {
    let csp = csp();
    let sources_of = |directive: &str| -> &Vec<String> {
        csp.get(directive)
            .or_else(|| csp.get("default-src"))
            .unwrap_or_else(|| panic!("no {directive} and no default-src"))
    };
    assert_eq!(csp["default-src"], ["'self'"], "default-src");
    for directive in [
        "script-src",
        "style-src",
        "img-src",
        "font-src",
        "connect-src",
        "object-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    ] {
        for source in sources_of(directive) {
            let allowed = match source.as_str() {
                "'self'" | "'none'" => true,
                // Images drawn by the app itself (icons as data: URLs).
                "data:" => directive == "img-src",
                // The IPC channel and nothing else: Tauri's custom protocol.
                "ipc:" | "http://ipc.localhost" => directive == "connect-src",
                _ => false,
            };
            assert!(
                allowed,
                "{directive} allows {source}: the page may load only its own files \
                 (no inline or evaluated script, no remote origin)"
            );
        }
    }
    for directive in ["object-src", "base-uri", "form-action", "frame-ancestors"] {
        assert_eq!(csp[directive], ["'none'"], "{directive}");
    }
    assert!(
        !csp.values().flatten().any(|s| s.contains("unsafe")),
        "no 'unsafe-…' source anywhere: {csp:?}"
    );
}
