//! `latchkey export [--file F]` and `latchkey import FILE [--dry-run] [--json]`:
//! the file and the report; what goes in the file and how an import merges is
//! `latchkey_core::transfer`.

use latchkey_core::{Error, Latchkey};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub async fn export(core: &Latchkey, file: Option<PathBuf>) -> Result<(), Error> {
    let text = core.export().await?;
    match file {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::Internal(format!("cannot write to stdout: {e}")))?;
        }
        Some(path) => {
            // Beside the target, then renamed over it: a reader never sees half a file.
            let tmp = path.with_extension("latchkey-export.tmp");
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    Error::invalid("file", format!("cannot write {}: {e}", path.display()))
                })?;
            eprintln!("exported to {}", path.display());
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, Error> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| Error::invalid("file", format!("cannot read {}: {e}", path.display())))?;
    Ok(text)
}

pub async fn import(core: &Latchkey, path: &Path, dry_run: bool, json: bool) -> Result<(), Error> {
    let text = read(path)?;
    let report = core.import(&text, dry_run).await.map_err(|e| match e {
        // Name the file in front of "line N, …".
        Error::Invalid { field, message } => Error::Invalid {
            field,
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        );
    } else {
        let verb = |done: &'static str, would: &'static str| if dry_run { would } else { done };
        for line in &report.added {
            println!("{:<13}{line}", verb("added", "would add"));
        }
        for line in &report.changed {
            println!("{:<13}{line}", verb("changed", "would change"));
        }
        for line in &report.unchanged {
            println!("{:<13}{line}", "unchanged");
        }
    }
    let (a, c, u) = (
        report.added.len(),
        report.changed.len(),
        report.unchanged.len(),
    );
    if dry_run {
        eprintln!("dry run: would add {a}, change {c}, leave {u}; nothing was changed");
    } else {
        eprintln!("added {a}, changed {c}, left {u} as they were");
    }
    for name in &report.needs_secret {
        eprintln!(
            "{name} needs its secret before it works: `latchkey profile secret {name}` (reads stdin)"
        );
    }
    Ok(())
}
