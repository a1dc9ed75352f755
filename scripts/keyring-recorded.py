#!/usr/bin/env python3
"""Checks that the leak scan looks for every secret Latchkey stored.

The leak scan (scripts/leak-scan.sh) searches Latchkey's files for what the
sandboxes recorded (LATCHKEY_SANDBOX_RECORD). A secret the recorder missed (a
new answer field, a new route) would slip past it, so this reads every entry
Latchkey put in the session's keyring (attribute application=rust-keyring,
every service: the test keyring of scripts/session.sh, never the user's) and
fails when one is not in the records, naming its service and account, never
printing the secret. A secret kept as a JSON document (Quay's session: its
cookies and CSRF token) counts by its string parts.

    scripts/keyring-recorded.py RECORD...    # inside scripts/session.sh
"""
import json
import subprocess
import sys

MIN_LEN = 8  # what crates/sandbox/src/issued.rs records


def parts(secret):
    try:
        doc = json.loads(secret)
    except ValueError:
        return [secret]
    if not isinstance(doc, (dict, list)):
        return [secret]
    leaves, stack = [], [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) >= MIN_LEN:
            leaves.append(item)
    return leaves or [secret]


def entries():
    """(service, account) of every Latchkey entry in the session's keyring."""
    listing = subprocess.run(
        ["secret-tool", "search", "--all", "application", "rust-keyring"],
        capture_output=True, text=True, check=True,
    )
    found, item = [], {}
    # secret-tool prints each item's label and secret on stdout and its
    # attributes on stderr; the attributes alone name the entry.
    for line in listing.stderr.splitlines():
        if line.startswith("attribute.") and " = " in line:
            name, value = line[len("attribute."):].split(" = ", 1)
            item[name] = value
            if "service" in item and "username" in item:
                found.append((item["service"], item["username"]))
                item = {}
    return sorted(set(found))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    recorded = set()
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            recorded.update(line.rstrip("\n") for line in f)
    all_entries = entries()
    if not all_entries:
        sys.exit("keyring-recorded: the keyring holds no Latchkey entry: nothing was checked "
                 "(run it inside the session that logged in)")
    missed = []
    for service, account in all_entries:
        secret = subprocess.run(
            ["secret-tool", "lookup", "service", service, "username", account],
            capture_output=True, text=True, check=True,
        ).stdout
        if not all(part in recorded for part in parts(secret)):
            missed.append(f"{account} ({service})")
    if missed:
        sys.exit("keyring-recorded: the sandbox did not record the secret of these keyring entries, so "
                 "the leak scan would not look for it: " + ", ".join(missed)
                 + ". Teach crates/sandbox/src/issued.rs the answer that carries it.")
    print(f"keyring-recorded: all {len(all_entries)} secrets in the keyring are in the sandboxes' record",
          file=sys.stderr)


if __name__ == "__main__":
    main()
