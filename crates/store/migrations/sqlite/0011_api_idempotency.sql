-- The REST API's Idempotency-Key: the first response to a write, kept per user and key, so
-- that a client retrying the same request gets the same answer instead of a second payment.
-- `request_hash` is SHA-256 of method, path and body: the same key with another request is
-- refused (422).
CREATE TABLE api_idempotency (
    user_id BIGINT NOT NULL REFERENCES users(id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

-- The API's lists are keyset pages in id order within a creditor: without these, SQLite reads
-- the creditor's rows through another index and sorts them all (6 s for a page of events on
-- 80,000 events; a few milliseconds with them).
CREATE INDEX items_creditor_id ON items (creditor_id, id);
CREATE INDEX payments_creditor_id ON payments (creditor_id, id);
CREATE INDEX actions_creditor_id ON actions (creditor_id, id);
CREATE INDEX events_creditor_id ON events (creditor_id, id);
