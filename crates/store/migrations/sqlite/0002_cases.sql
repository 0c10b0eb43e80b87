-- Dunning cases, the outbox of planned actions, and disputes on invoices.
--
-- `cases` keeps what only a case knows (cycle, steps done, promise, holds, notices sent) as JSON
-- in `state`; the ledger half (open items) is rebuilt from `items` at each run. `next_action_on`
-- is the first day the case needs the planner; '0000-00-00' means "changed since its last plan:
-- plan it at the next run, whatever the day" (set by imports, payments, promises, disputes, holds).
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    cycle BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'new',
    last_step TEXT,
    next_action_on TEXT,
    updated_at TEXT NOT NULL,
    CONSTRAINT cases_customer_unique UNIQUE (creditor_id, customer_id)
);
CREATE INDEX cases_next_action ON cases (creditor_id, next_action_on);

-- Every customer that already has items gets a case to plan at the next run.
INSERT INTO cases (creditor_id, customer_id, next_action_on, updated_at)
SELECT DISTINCT creditor_id, customer_id, '0000-00-00', '' FROM items;

-- The outbox: one row per action and channel. The unique key makes a second run of the same
-- day insert nothing. status: planned → rendered → sending → sent | failed | cancelled.
CREATE TABLE actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    idempotency_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    step TEXT NOT NULL,
    notice BIGINT NOT NULL DEFAULT 0,
    cycle BIGINT NOT NULL,
    planned_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'planned'
        CHECK (status IN ('planned', 'rendered', 'sending', 'sent', 'failed', 'cancelled')),
    invoices TEXT NOT NULL DEFAULT '[]',
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT actions_key_unique UNIQUE (creditor_id, idempotency_key, channel)
);
CREATE INDEX actions_customer_status ON actions (creditor_id, customer_id, status);

-- Disputes (litiges) on invoices: open while resolved_on is NULL; an open dispute takes the
-- invoice out of its case.
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    opened_on TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    resolved_on TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX disputes_item ON disputes (creditor_id, item_id);
