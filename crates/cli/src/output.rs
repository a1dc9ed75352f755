//! How lists print: a table for people, one JSON document with `--json`.

use latchkey_core::{ProfileView, ServerView};
use serde::Serialize;
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

pub fn profiles(profiles: &[ProfileView], as_json: bool) {
    if as_json {
        return json(profiles);
    }
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
