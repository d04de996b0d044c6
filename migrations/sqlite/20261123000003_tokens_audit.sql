-- Signing keys (token and audit), issued tokens, and the append-only audit log with its
-- signed tree heads. Times are Unix milliseconds.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    purpose         TEXT NOT NULL,             -- 'token' or 'audit'
    alg             TEXT NOT NULL,             -- 'EdDSA' or 'ES256'
    public_jwk      TEXT NOT NULL,
    sealed_private  BLOB NOT NULL,             -- PKCS#8, sealed with the master key
    state           TEXT NOT NULL,             -- 'pending', 'active', 'retired'
    created_at      INTEGER NOT NULL,
    activated_at    INTEGER,
    retired_at      INTEGER,
    publish_until   INTEGER                    -- retired keys stay in the JWKS until then
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (purpose) WHERE state = 'active';

CREATE TABLE tokens (
    jti             TEXT PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    org_id          TEXT NOT NULL,
    kid             TEXT NOT NULL REFERENCES signing_keys(kid),
    txn             TEXT NOT NULL,
    sealed_token    BLOB NOT NULL,
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_by      TEXT
);
CREATE INDEX tokens_verification ON tokens (verification_id);
CREATE INDEX tokens_revoked ON tokens (revoked_at);

-- One row: how many audit events exist. Appenders increment it in their transaction,
-- which serialises them and keeps the sequence gap-free.
CREATE TABLE audit_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    size    BIGINT NOT NULL
);
INSERT INTO audit_state (id, size) VALUES (1, 0);

CREATE TABLE audit_events (
    seq             BIGINT PRIMARY KEY,        -- leaf index in the Merkle tree, from 0
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    org_id          TEXT,
    verification_id TEXT,
    entry           TEXT NOT NULL,             -- the canonical JSON that is hashed
    leaf_hash       TEXT NOT NULL              -- hex SHA-256(0x00 || entry)
);
CREATE INDEX audit_events_verification ON audit_events (verification_id, seq);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at);

CREATE TABLE audit_heads (
    tree_size   BIGINT PRIMARY KEY,
    root_hash   TEXT NOT NULL,
    signed_at   BIGINT NOT NULL,
    kid         TEXT NOT NULL REFERENCES signing_keys(kid),
    signature   TEXT NOT NULL                  -- base64url Ed25519 over the head message
);
