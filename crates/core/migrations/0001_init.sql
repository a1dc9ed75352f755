-- Servers, tenants and profiles. No secret ever goes into this database: the
-- vault (OS keyring) holds them, keyed by profile id.
CREATE TABLE servers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    url        TEXT NOT NULL,
    ca_pem     TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE tenants (
    id        INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    UNIQUE (server_id, name)
);

CREATE TABLE profiles (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    server_id  INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    tenant_id  INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
    login      TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    label      TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX profiles_server ON profiles(server_id);

-- Application settings as one JSON document per key.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
