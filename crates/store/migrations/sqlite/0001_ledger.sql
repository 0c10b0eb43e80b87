-- The ledger: creditors (tenants), customers, invoices and credit notes, payments, allocations,
-- the append-only event timeline and the log of imports. Dates are ISO 8601 TEXT (calendar dates
-- in the creditor's time zone), amounts are BIGINT minor units with their currency beside them.
CREATE TABLE creditors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    siren TEXT,
    iban TEXT,
    bic TEXT,
    address TEXT NOT NULL DEFAULT '',
    email TEXT,
    time_zone TEXT NOT NULL DEFAULT 'Europe/Paris',
    alsace_moselle BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('business', 'consumer')),
    language TEXT NOT NULL DEFAULT 'fr',
    siren TEXT,
    emails TEXT NOT NULL DEFAULT '',
    phones TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT customers_code_unique UNIQUE (creditor_id, code)
);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    number TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    paid_outside_minor BIGINT NOT NULL DEFAULT 0,
    allocated_minor BIGINT NOT NULL DEFAULT 0,
    open_minor BIGINT GENERATED ALWAYS AS (total_minor - paid_outside_minor - allocated_minor) STORED,
    -- The import that created or last changed the item (file name and time are there).
    import_id BIGINT REFERENCES imports(id),
    updated_at TEXT,
    CONSTRAINT items_number_unique UNIQUE (creditor_id, kind, number)
);
CREATE INDEX items_customer ON items (customer_id, due_date);
CREATE INDEX items_open_due ON items (creditor_id, due_date) WHERE open_minor <> 0;

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT REFERENCES customers(id),
    received_on TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    unallocated_minor BIGINT NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    invoice_number TEXT,
    bank_reference TEXT,
    fingerprint TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    CONSTRAINT payments_fingerprint_unique UNIQUE (creditor_id, fingerprint)
);
CREATE INDEX payments_customer ON payments (customer_id, received_on);

CREATE TABLE allocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    payment_id BIGINT REFERENCES payments(id),
    credit_note_id BIGINT REFERENCES items(id),
    amount_minor BIGINT NOT NULL,
    allocated_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX allocations_item ON allocations (item_id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    customer_id BIGINT REFERENCES customers(id),
    item_id BIGINT REFERENCES items(id),
    kind TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_customer ON events (creditor_id, customer_id, occurred_on);
