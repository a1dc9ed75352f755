-- Token metadata: what is known about each token a profile holds, without the
-- token itself (that is in the keyring). Times are Unix seconds, UTC.
CREATE TABLE tokens (
    profile_id   INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,             -- access | refresh | id | session | registry
    issued_at    INTEGER,
    expires_at   INTEGER,
    renew_due_at INTEGER,
    scopes       TEXT NOT NULL DEFAULT '[]', -- JSON array
    summary      TEXT NOT NULL DEFAULT '{}', -- JSON: non-secret claims (sub, iss, aud, ...)
    PRIMARY KEY (profile_id, kind)
);

-- The renewal state of a profile: the last failure and when to try again.
CREATE TABLE renewals (
    profile_id    INTEGER PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
    last_error    TEXT,
    failed_at     INTEGER,
    next_retry_at INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    reminded      TEXT NOT NULL DEFAULT '[]', -- reminder thresholds (minutes) already announced
    next_at       INTEGER  -- the profile's next deadline (renewal, retry or reminder), kept by the core
);
-- The scheduler asks for MIN(next_at) and for the rows due: never a full scan.
CREATE INDEX renewals_next_at ON renewals(next_at);

-- What happened to a profile's credential, newest last. Never the token itself.
CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    event      TEXT NOT NULL,
    detail     TEXT
);
CREATE INDEX history_profile ON history(profile_id, at);
