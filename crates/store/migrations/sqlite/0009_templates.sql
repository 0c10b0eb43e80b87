-- Message templates edited by the creditor: an override of a built-in template per step,
-- language and part (subject, body, e-mail text, e-mail HTML, letter), kept as an append-only
-- version history. The latest version of a key is in force; a version whose source is NULL is a
-- reset to the built-in template. Sources are validated (rendered against sample data) before
-- they are saved.
CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    creditor_id BIGINT NOT NULL REFERENCES creditors(id),
    step TEXT NOT NULL,
    language TEXT NOT NULL,
    part TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    CONSTRAINT templates_version_unique UNIQUE (creditor_id, step, language, part, version)
);
