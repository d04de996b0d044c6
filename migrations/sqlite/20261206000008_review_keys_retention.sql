-- Human review. A reviewer claims a case (one case per reviewer and one reviewer per case,
-- until the claim expires) and records a decision with a reason code and a note (sealed: it
-- may name the candidate). Under the four-eyes rule a decision waits ('pending') for a
-- second reviewer's agreement; the agreeing one makes both 'final', a different one
-- supersedes it.
CREATE TABLE review_claims (
    verification_id TEXT PRIMARY KEY REFERENCES verifications(id),
    org_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX review_claims_by_reviewer ON review_claims (org_id, reviewer);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    org_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    sealed_note BLOB NOT NULL,
    state TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX reviews_by_verification ON reviews (verification_id, at);

-- What the stages established, for the token a reviewer's approval issues (JSON: check
-- details and document details as in a token; no score, no PII). Kept for cases decided
-- other than approve.
ALTER TABLE verifications ADD COLUMN evidence TEXT;

-- API keys are managed by admins: a label, an optional expiry and who created them.
ALTER TABLE api_keys ADD COLUMN label TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT;

-- Retention: when a case's media and its personal data were deleted (by the scheduled purge
-- or an erasure); the audit log keeps its digests.
ALTER TABLE verifications ADD COLUMN media_purged_at BIGINT;
ALTER TABLE verifications ADD COLUMN personal_purged_at BIGINT;
