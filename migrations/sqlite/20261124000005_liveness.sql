-- Liveness challenges: issued for one verification, answered once (used_at set when the
-- selfie that answers it is stored).
CREATE TABLE challenges (
    id              TEXT PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    steps           TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX challenges_by_verification ON challenges (verification_id);

-- The challenge a selfie answers, and what the browser reported about the capture (camera
-- label, frame timing: signals only).
CREATE TABLE selfie_captures (
    verification_id TEXT PRIMARY KEY REFERENCES verifications(id),
    challenge_id    TEXT NOT NULL REFERENCES challenges(id),
    report          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- Perceptual fingerprints of selfie videos (64-bit difference hashes of 16 frames, hex), to
-- find a replayed or re-encoded selfie under another verification.
CREATE TABLE selfie_fingerprints (
    verification_id TEXT PRIMARY KEY REFERENCES verifications(id),
    hashes          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
