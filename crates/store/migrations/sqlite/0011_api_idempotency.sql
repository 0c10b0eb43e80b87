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
