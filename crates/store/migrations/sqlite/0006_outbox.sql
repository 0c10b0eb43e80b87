-- Delivery through the outbox (issue 5): leases, attempts and what was sent, on each action.
--
-- A dispatcher claims a row (claimed_by, claimed_at: a lease another worker may take over once
-- it has expired, while the row is still planned/rendered), moves it to 'sending' in the same
-- transaction that checks its invoices are still owed, then records what happened. A row left
-- in 'sending' longer than the lease is flagged in_doubt = 1 and never re-sent automatically.
-- Times are RFC 3339 UTC text (ordered as text); dates ISO text.
ALTER TABLE actions ADD COLUMN claimed_by TEXT;
ALTER TABLE actions ADD COLUMN claimed_at TEXT;
ALTER TABLE actions ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN next_attempt_at TEXT;
ALTER TABLE actions ADD COLUMN last_error TEXT;
ALTER TABLE actions ADD COLUMN sent_at TEXT;
ALTER TABLE actions ADD COLUMN message_id TEXT;
ALTER TABLE actions ADD COLUMN document_sha256 TEXT;
ALTER TABLE actions ADD COLUMN document_path TEXT;
ALTER TABLE actions ADD COLUMN in_doubt BIGINT NOT NULL DEFAULT 0;
-- Letters: the registered-letter number and the day the acknowledgement of receipt came back
-- (read by the litigation file).
ALTER TABLE actions ADD COLUMN registered_number TEXT;
ALTER TABLE actions ADD COLUMN acknowledged_on TEXT;

-- What a dispatcher looks for: due rows by status.
CREATE INDEX actions_due ON actions (creditor_id, status, due_on);

-- Contact addresses a server refused for good (SMTP 5xx): recorded on the customer.
CREATE TABLE rejected_addresses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX rejected_addresses_customer ON rejected_addresses (creditor_id, customer_id);
