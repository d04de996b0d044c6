-- The document number of each verification: sealed with the master key (AAD
-- `document-number:<verification id>`), plus a keyed hash (HMAC-SHA256 under a key derived
-- from the master key) to find the same document under another candidate.
CREATE TABLE document_numbers (
    verification_id TEXT PRIMARY KEY REFERENCES verifications(id),
    org_id          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    number_hash     TEXT NOT NULL,
    sealed_number   BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX document_numbers_by_hash ON document_numbers (number_hash);
