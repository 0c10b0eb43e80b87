-- Customer search that stays fast with 200,000 customers (issue 7): a full-text index of the
-- name, code, SIREN and e-mail addresses, accents and case folded, searched by word prefixes
-- (`durand 19` finds "Hôtel Durand 1999"). External content: the words point at `customers`
-- rows and the triggers below keep them in step with every insert, change and removal, whatever
-- writes them. The prefix indexes make short prefixes (2 and 3 characters) as cheap as words.
CREATE VIRTUAL TABLE customers_fts USING fts5(
    name, code, siren, emails,
    content = 'customers', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, name, code, siren, emails)
    VALUES (new.id, new.name, new.code, new.siren, new.emails);
END;

CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name, code, siren, emails)
    VALUES ('delete', old.id, old.name, old.code, old.siren, old.emails);
END;

CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, code, siren, emails ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name, code, siren, emails)
    VALUES ('delete', old.id, old.name, old.code, old.siren, old.emails);
    INSERT INTO customers_fts (rowid, name, code, siren, emails)
    VALUES (new.id, new.name, new.code, new.siren, new.emails);
END;

-- The customers already there.
INSERT INTO customers_fts (customers_fts) VALUES ('rebuild');
