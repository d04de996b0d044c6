-- idgate schema (SQLite). Times are Unix milliseconds (INTEGER); PII is sealed (BLOB).
CREATE TABLE organisations (
    id              TEXT PRIMARY KEY,
    webhook_secret  BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE api_keys (
    prefix      TEXT PRIMARY KEY,
    hash        TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE verifications (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organisations(id),
    external_id         TEXT NOT NULL,
    status              TEXT NOT NULL,
    claims              BLOB NOT NULL,
    callback_url        TEXT,
    idempotency_key     TEXT,
    request_digest      TEXT,
    token_digest        TEXT NOT NULL,
    token_expires_at    INTEGER NOT NULL,
    sealed_link         BLOB NOT NULL,
    consent_version     TEXT,
    consent_at          INTEGER,
    decision            TEXT,
    reasons             TEXT NOT NULL DEFAULT '[]',
    results             TEXT NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (org_id, idempotency_key)
);
CREATE INDEX verifications_org_created ON verifications (org_id, created_at, id);
CREATE INDEX verifications_org_external ON verifications (org_id, external_id);
CREATE UNIQUE INDEX verifications_token ON verifications (token_digest);

CREATE TABLE media (
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    kind            TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    format          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (verification_id, kind)
);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    run_at          INTEGER NOT NULL,
    lease_until     INTEGER,
    locked_by       TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (kind, status, run_at);
