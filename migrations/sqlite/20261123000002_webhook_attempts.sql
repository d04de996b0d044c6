-- Every webhook delivery attempt, for the HR system's and the auditors' benefit.
CREATE TABLE webhook_attempts (
    job_id          TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    verification_id TEXT NOT NULL,
    url             TEXT NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    duration_ms     INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX webhook_attempts_verification ON webhook_attempts (verification_id, at);
