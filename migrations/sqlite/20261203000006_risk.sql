-- The risk stage's latest result (JSON: score, band, signals with evidence, list versions;
-- no PII) and its score, for `GET /v1/verifications?risk_above=N`. Set at creation from the
-- claims, replaced by the pipeline's.
ALTER TABLE verifications ADD COLUMN risk_score INTEGER;
ALTER TABLE verifications ADD COLUMN risk TEXT;
CREATE INDEX verifications_by_risk ON verifications (org_id, risk_score);

-- Keyed hashes (HMAC under the deployment's look-up key) of each verification's phone and
-- e-mail, with a keyed hash of the claimed identity: the same phone or address under another
-- identity in the organisation is a risk signal. No value can be read back or guessed without
-- the key.
CREATE TABLE claim_hashes (
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (verification_id, kind)
);
CREATE INDEX claim_hashes_by_value ON claim_hashes (org_id, kind, value_hash);
