-- Late-payment law: rate tables imported after the release (public data, shared by all
-- creditors: the ECB and Journal officiel figures are the same for everyone), and waivers of the
-- penalties and indemnity a late invoice accrued (a person's decision, with its reason).
CREATE TABLE rate_tables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    content TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE penalty_waivers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    waived_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT penalty_waivers_item_unique UNIQUE (creditor_id, item_id)
);
