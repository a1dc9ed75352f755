//! How lists print: a table for people, one JSON document with `--json`.

use latchkey_core::{ProfileView, ServerView};
use serde::{Serialize, Serializer};
use std::io::Write;

/// Writes `value` as pretty JSON and a newline, straight to stdout: a list
/// of 10,000 profiles is 4.5 MB, which a `String` first would copy as it
/// grows and touch twice.
fn json<T: Serialize + ?Sized>(value: &T) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    // As `println!` does when stdout is gone.
    if let Err(err) = written {
        panic!("failed printing to stdout: {err}");
    }
}

/// Left-aligned columns, two spaces apart.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

pub fn servers(servers: &[ServerView], as_json: bool) {
    if as_json {
        return json(servers);
    }
    if servers.is_empty() {
        eprintln!("no servers yet: add one with `latchkey server add NAME --kind KIND --url URL`");
        return;
    }
    table(
        &["NAME", "KIND", "URL", "TENANTS", "PROFILES"],
        servers
            .iter()
            .map(|s| {
                vec![
                    s.server.name.clone(),
                    s.server.kind.to_string(),
                    s.server.url.clone(),
                    s.tenants
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    s.profile_count.to_string(),
                ]
            })
            .collect(),
    );
}

pub fn tenants(servers: &[ServerView], as_json: bool) {
    #[derive(Serialize)]
    struct Row<'a> {
        server: &'a str,
        tenant: &'a str,
    }
    let rows: Vec<Row> = servers
        .iter()
        .flat_map(|s| {
            s.tenants.iter().map(|t| Row {
                server: &s.server.name,
                tenant: &t.name,
            })
        })
        .collect();
    if as_json {
        return json(&rows);
    }
    table(
        &["SERVER", "TENANT"],
        rows.iter()
            .map(|r| vec![r.server.to_string(), r.tenant.to_string()])
            .collect(),
    );
}

/// Every profile as one pretty JSON array, each written as it is built: the
/// same text as [`json`] of them all, without holding them all (4.5 MB of
/// views at 10,000 profiles).
pub fn profiles_json(profiles: impl Iterator<Item = ProfileView>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = json_array(&mut out, profiles).and_then(|()| out.flush());
    // As `println!` does when stdout is gone.
    if let Err(err) = written {
        panic!("failed printing to stdout: {err}");
    }
}

/// `items` as [`json`] writes a slice of them, one at a time.
fn json_array<T: Serialize>(
    mut out: impl Write,
    items: impl Iterator<Item = T>,
) -> std::io::Result<()> {
    serde_json::Serializer::pretty(&mut out).collect_seq(items)?;
    out.write_all(b"\n")
}

/// The profiles as a table for people.
pub fn profiles(profiles: &[ProfileView]) {
    if profiles.is_empty() {
        eprintln!("no profiles yet: add one with `latchkey profile add NAME --server S --login L`");
        return;
    }
    table(
        &["NAME", "SERVER", "TENANT", "LOGIN", "STATUS", "EXPIRES"],
        profiles
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.server.clone(),
                    p.tenant.clone().unwrap_or_else(|| "-".into()),
                    p.login.to_string(),
                    p.status_label.clone(),
                    p.expires_at.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_written_item_by_item_is_the_array_written_whole() {
        let item = |i: usize| serde_json::json!({"name": format!("p{i}"), "tenant": null, "settings": {"scopes": ["a", "b"]}, "n": i});
        for count in [0, 1, 3] {
            let items: Vec<serde_json::Value> = (0..count).map(item).collect();
            let mut whole = serde_json::to_vec_pretty(&items).unwrap();
            whole.push(b'\n');
            let mut one_by_one = Vec::new();
            json_array(&mut one_by_one, items.into_iter()).unwrap();
            assert_eq!(
                String::from_utf8(one_by_one).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }
}
