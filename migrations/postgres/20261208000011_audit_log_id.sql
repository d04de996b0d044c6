-- The audit log's own id (set once, at its first signed head) and, on every head signed
-- since, the id it was signed for: a kept head names the log it belongs to. Heads signed
-- before have none (their signed message is the v1 one, without an id).
ALTER TABLE audit_state ADD COLUMN log_id TEXT;
ALTER TABLE audit_heads ADD COLUMN log_id TEXT;
