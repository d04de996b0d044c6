-- People who use the console (reviewers, auditors, admins of an organisation). The password
-- is an argon2id PHC string; the TOTP secret is sealed with the master key; a code's step is
-- accepted once (totp_last_step). After repeated failures the account is locked until
-- locked_until. A new user has only a one-time set-up token (its SHA-256).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    sealed_totp BYTEA,
    totp_last_step BIGINT,
    failed_attempts BIGINT NOT NULL,
    locked_until BIGINT,
    setup_digest TEXT,
    setup_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE UNIQUE INDEX users_by_setup ON users (setup_digest);

-- Console sessions, by the SHA-256 of the cookie's value (never the value), with the CSRF
-- token the page sends back; expiring, idle-limited and revocable.
CREATE TABLE user_sessions (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX user_sessions_by_user ON user_sessions (user_id);
