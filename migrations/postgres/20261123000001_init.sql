-- idgate schema (PostgreSQL). Times are Unix milliseconds (BIGINT); PII is sealed (BYTEA).
CREATE TABLE organisations (
    id              TEXT PRIMARY KEY,
    webhook_secret  BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE api_keys (
    prefix      TEXT PRIMARY KEY,
    hash        TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE verifications (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organisations(id),
    external_id         TEXT NOT NULL,
    status              TEXT NOT NULL,
    claims              BYTEA NOT NULL,
    callback_url        TEXT,
    idempotency_key     TEXT,
    request_digest      TEXT,
    token_digest        TEXT NOT NULL,
    token_expires_at    BIGINT NOT NULL,
    sealed_link         BYTEA NOT NULL,
    consent_version     TEXT,
    consent_at          BIGINT,
    decision            TEXT,
    reasons             TEXT NOT NULL DEFAULT '[]',
    results             TEXT NOT NULL DEFAULT '{}',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
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
    size            BIGINT NOT NULL,
    format          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (verification_id, kind)
);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    max_attempts    BIGINT NOT NULL,
    run_at          BIGINT NOT NULL,
    lease_until     BIGINT,
    locked_by       TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (kind, status, run_at);
