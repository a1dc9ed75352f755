//! How lists print: a table for people, one JSON document with `--json`.

use latchkey_core::service::ProfileLine;
use latchkey_core::tokens::rfc3339;
use latchkey_core::ServerView;
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

/// Every profile as one pretty JSON array, each line written as it is
/// built: the same text as [`json`] of their views, without holding them
/// all (4.5 MB of views at 10,000 profiles) or making their strings.
pub fn profiles_json<'a>(profiles: impl Iterator<Item = ProfileLine<'a>>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = lines_json(&mut out, profiles).and_then(|()| out.flush());
    // As `println!` does when stdout is gone.
    if let Err(err) = written {
        panic!("failed printing to stdout: {err}");
    }
}

/// `lines` as [`json`] writes a slice of them: serde_json's pretty text,
/// its layout written here, field by field, its values (strings, numbers,
/// names of kinds, the settings) by serde_json itself. serde_json's pretty
/// writer makes a write of each indent, key, colon and comma: 17 fields of
/// 10,000 profiles. The same text as serde_json's for every field of a line
/// (`lines_are_written_as_serde_json_writes_them`).
fn lines_json<'a>(
    mut out: impl Write,
    lines: impl Iterator<Item = ProfileLine<'a>>,
) -> std::io::Result<()> {
    let mut buffer: Vec<u8> = Vec::with_capacity(1024);
    let mut settings: Vec<u8> = Vec::with_capacity(256);
    let mut any = false;
    out.write_all(b"[")?;
    for line in lines {
        buffer.clear();
        buffer.extend_from_slice(if any { b",\n  {" } else { b"\n  {" });
        any = true;
        line_fields(&mut buffer, &mut settings, &line).map_err(std::io::Error::from)?;
        buffer.extend_from_slice(b"\n  }");
        out.write_all(&buffer)?;
    }
    out.write_all(if any { b"\n]\n" } else { b"]\n" })
}

/// The fields of one line, as serde_json's pretty writer lays out an object
/// two levels deep (in an array).
fn line_fields(
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    line: &ProfileLine<'_>,
) -> serde_json::Result<()> {
    fn value<T: Serialize + ?Sized>(
        out: &mut Vec<u8>,
        key: &[u8],
        v: &T,
    ) -> serde_json::Result<()> {
        out.extend_from_slice(key);
        serde_json::to_writer(&mut *out, v)
    }
    value(out, b"\n    \"id\": ", &line.id)?;
    value(out, b",\n    \"name\": ", line.name)?;
    value(out, b",\n    \"server\": ", line.server)?;
    value(out, b",\n    \"server_kind\": ", &line.server_kind)?;
    value(out, b",\n    \"tenant\": ", &line.tenant)?;
    value(out, b",\n    \"login\": ", &line.login)?;
    // The settings, pretty on their own, then indented to their depth: a
    // newline in serde_json's pretty text is always its layout (in strings
    // it is escaped).
    out.extend_from_slice(b",\n    \"settings\": ");
    scratch.clear();
    serde_json::to_writer_pretty(&mut *scratch, line.settings)?;
    for &byte in scratch.iter() {
        out.push(byte);
        if byte == b'\n' {
            out.extend_from_slice(b"    ");
        }
    }
    value(out, b",\n    \"label\": ", &line.label)?;
    value(out, b",\n    \"status\": ", &line.status)?;
    value(out, b",\n    \"status_label\": ", line.status_label)?;
    value(out, b",\n    \"issued_at\": ", &line.issued_at)?;
    value(out, b",\n    \"expires_at\": ", &line.expires_at)?;
    value(out, b",\n    \"renew_due_at\": ", &line.renew_due_at)?;
    value(out, b",\n    \"renewable\": ", &line.renewable)?;
    value(out, b",\n    \"waiting\": ", &line.waiting)?;
    value(
        out,
        b",\n    \"renewal_failed_at\": ",
        &line.renewal_failed_at,
    )
}

/// The profiles as a table for people.
pub fn profiles<'a>(profiles: impl Iterator<Item = ProfileLine<'a>>) {
    let mut profiles = profiles.peekable();
    if profiles.peek().is_none() {
        eprintln!("no profiles yet: add one with `latchkey profile add NAME --server S --login L`");
        return;
    }
    table(
        &["NAME", "SERVER", "TENANT", "LOGIN", "STATUS", "EXPIRES"],
        profiles
            .map(|p| {
                vec![
                    p.name.to_string(),
                    p.server.to_string(),
                    p.tenant.unwrap_or("-").to_string(),
                    p.login.to_string(),
                    p.status_label.to_string(),
                    p.expires_at.map_or_else(|| "-".into(), |t| rfc3339(t.0)),
                ]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_as_serde_json_writes_them() {
        use latchkey_core::model::{LoginKind, ProfileSettings, RedirectMode, ServerKind};
        use latchkey_core::service::Rfc3339;
        use latchkey_core::tokens::TokenStatus;
        use time::macros::datetime;
        let full = ProfileSettings {
            username: Some("ünïcødé \"q\" \\ \n\t\u{1}".into()),
            client_id: Some("latchkey".into()),
            scopes: vec!["openid".into(), "a b".into()],
            audience: Some("aud".into()),
            redirect: Some(RedirectMode::Loopback),
            registry: Some("ghcr.io".into()),
            ..ProfileSettings::default()
        };
        let empty = ProfileSettings::default();
        let one = ProfileSettings {
            username: Some("user1".into()),
            ..ProfileSettings::default()
        };
        let at = Some(Rfc3339(datetime!(2026-06-01 12:00:00.5 UTC)));
        let line = |id: i64, settings, label, tenant, time| ProfileLine {
            id,
            name: "ops-\u{7f}-✓",
            server: "edge\"s",
            server_kind: ServerKind::Avassa,
            tenant,
            login: LoginKind::AvassaPassword,
            settings,
            label,
            status: TokenStatus::RenewDue,
            status_label: "renewal due",
            issued_at: time,
            expires_at: time,
            renew_due_at: None,
            renewable: id % 2 == 0,
            waiting: id % 3 == 0,
            renewal_failed_at: time,
        };
        let all = [
            line(-1, &full, Some("a\nlabel"), Some("team"), at),
            line(0, &empty, None, None, None),
            line(i64::MAX, &one, Some(""), Some(""), at),
        ];
        for count in 0..=all.len() {
            let lines = &all[..count];
            let mut whole = serde_json::to_vec_pretty(lines).unwrap();
            whole.push(b'\n');
            let mut written = Vec::new();
            lines_json(&mut written, lines.iter().cloned()).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }
}
