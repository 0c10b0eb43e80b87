-- Follow-ups beyond receivables (issue 9): quotes, prospects and dormant customers, planned by
-- the same run into the same outbox (`actions`) and timeline as the dunning cases.
--
-- One row per follow-up: a quote (reference = its number), a prospect (reference = 'prospect'),
-- a dormancy (reference = 'dormant-since-DAY', one per silence). `done` is the JSON list of
-- the steps carried out or passed over ({step, on}); `next_action_on` the day the run looks
-- at it again (NULL: over). Amounts in minor units, dates ISO text, as everywhere.
CREATE TABLE followups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'prospect', 'dormant')),
    reference TEXT NOT NULL,
    started_on TEXT NOT NULL,
    valid_until TEXT,
    amount_minor BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'EUR',
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'accepted', 'refused', 'expired', 'replied', 'opted_out', 'done')),
    closed_on TEXT,
    done TEXT NOT NULL DEFAULT '[]',
    next_action_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT followups_reference_unique UNIQUE (creditor_id, kind, reference)
);
CREATE INDEX followups_next_action ON followups (creditor_id, next_action_on);
CREATE INDEX followups_customer ON followups (creditor_id, customer_id);

-- Contacts who asked for no more commercial messages (the unsubscribe link, or a person on
-- their behalf). Receivables and legal letters are not commercial and ignore it.
CREATE TABLE optouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    opted_out_on TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT optouts_customer_unique UNIQUE (creditor_id, customer_id)
);

-- An outbox row says what it follows: 'receivable' (a dunning case, the default), or a
-- follow-up kind with its row; `send_after` is not used by the dispatcher's claim (which reads
-- next_attempt_at), it records the hour chosen for the message in creditor time.
ALTER TABLE actions ADD COLUMN kind TEXT NOT NULL DEFAULT 'receivable';
ALTER TABLE actions ADD COLUMN followup_id BIGINT;
ALTER TABLE actions ADD COLUMN send_after TEXT;
