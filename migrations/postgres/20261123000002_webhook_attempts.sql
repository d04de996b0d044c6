-- Every webhook delivery attempt, for the HR system's and the auditors' benefit.
CREATE TABLE webhook_attempts (
    job_id          TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    verification_id TEXT NOT NULL,
    url             TEXT NOT NULL,
    status_code     BIGINT,
    error           TEXT,
    duration_ms     BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX webhook_attempts_verification ON webhook_attempts (verification_id, at);
