-- Where the candidate connected from and on what machine (the laptop-farm signals), and the
-- face templates of decided verifications for the 1:N search. Addresses, headers, device
-- reports and templates are sealed with the master key; look-ups go by keyed hashes.

-- One row per distinct (address, user agent, Accept-Language) a candidate request came with.
CREATE TABLE candidate_sightings (
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    info_hash TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (verification_id, info_hash)
);

-- The latest device report of the candidate page, and how many were sent.
CREATE TABLE device_reports (
    verification_id TEXT PRIMARY KEY REFERENCES verifications(id),
    sealed BYTEA NOT NULL,
    reports BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Keyed hashes of a verification's device fingerprint and network prefixes (/24, /48) with
-- the keyed hash of its claimed identity: the same machine or network behind other names.
CREATE TABLE identity_links (
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (verification_id, kind, value_hash)
);
CREATE INDEX identity_links_by_value ON identity_links (kind, value_hash, org_id);

-- Face templates (SFace, 128 floats, sealed) of decided verifications: the 1:N index is
-- rebuilt from them at start and follows new rows (and removals) by seq on every node.
CREATE TABLE face_templates (
    seq BIGSERIAL PRIMARY KEY,
    verification_id TEXT NOT NULL REFERENCES verifications(id),
    org_id TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (verification_id, kind)
);
CREATE TABLE face_template_removals (
    seq BIGSERIAL PRIMARY KEY,
    verification_id TEXT NOT NULL,
    removed_at BIGINT NOT NULL
);
