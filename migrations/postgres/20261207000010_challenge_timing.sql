-- A drawn challenge's prompts ({"prompts_ms": [...], "window_ms": N}; NULL for a fixed
-- challenge) and its number among the challenges of the same attempt (re-asking is capped
-- and counted: a recorded clip must not get free re-rolls).
ALTER TABLE challenges ADD COLUMN timing TEXT;
ALTER TABLE challenges ADD COLUMN number INTEGER NOT NULL DEFAULT 1;
