-- Policies stored and editable per creditor (JSON of relance_core::planner::Policy), in the order
-- in which they are tried; customers carry tags (segments) and may name their policy.
CREATE TABLE policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    policy_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    content TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT policies_id_unique UNIQUE (creditor_id, policy_id)
);
ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN policy_id TEXT;
