-- Suppliers (issue 9): purchase orders we placed and the invoices suppliers sent us, chased by
-- the same run into the same outbox (`actions`) and timeline as the dunning cases.
--
-- A supplier has a party row in `customers` (code 'supplier:CODE', kept in step with the
-- supplier's name, e-mail, address and language): the outbox and the timeline are keyed on it.
-- Amounts in minor units, quantities as decimal text, dates ISO text, as everywhere.
CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    party_id BIGINT NOT NULL REFERENCES customers(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT suppliers_code_unique UNIQUE (creditor_id, code)
);

-- One row per purchase order. `done` is the JSON list of the late-delivery steps carried out
-- ({step, on}); `next_action_on` the day the run looks at it again (NULL: over; '0000-00-00':
-- at the next run).
CREATE TABLE purchase_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    number TEXT NOT NULL,
    ordered_on TEXT NOT NULL,
    promised_on TEXT NOT NULL,
    delivered_on TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    quantity TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'delivered', 'done')),
    done TEXT NOT NULL DEFAULT '[]',
    next_action_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT purchase_orders_number_unique UNIQUE (creditor_id, number)
);
CREATE INDEX purchase_orders_next_action ON purchase_orders (creditor_id, next_action_on);

-- One row per supplier invoice; the run checks it against its order once ('unchecked' →
-- 'matching' or 'disputed', with the JSON list of discrepancies).
CREATE TABLE supplier_invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    supplier_id BIGINT NOT NULL REFERENCES suppliers(id),
    number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    po_number TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    quantity TEXT,
    status TEXT NOT NULL DEFAULT 'unchecked' CHECK (status IN ('unchecked', 'matching', 'disputed')),
    discrepancies TEXT NOT NULL DEFAULT '[]',
    checked_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT supplier_invoices_number_unique UNIQUE (creditor_id, supplier_id, number)
);
CREATE INDEX supplier_invoices_status ON supplier_invoices (creditor_id, status);

-- The purchase order (kind 'supplier_delivery') or supplier invoice (kind 'supplier_invoice')
-- an outbox row is about.
ALTER TABLE actions ADD COLUMN supplier_document_id BIGINT;
