-- Counters that move with every write to what the dashboard shows, from any connection or
-- process: one per part of the data, so that a promise recorded does not make the server sum
-- the whole ledger again. 1: the ledger (items, allocations, payments); 2: the outbox
-- (actions); 3: cases (promises live in their state); 4: disputes; 5: customers (names).
-- The web server keeps each dashboard figure while its counters are unchanged: one small read
-- per view instead of summing a million items, and never a stale figure.
CREATE TABLE data_revision (
    id INTEGER PRIMARY KEY,
    n INTEGER NOT NULL
);
INSERT INTO data_revision (id, n) VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0);
CREATE TRIGGER items_revision_insert AFTER INSERT ON items BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER items_revision_update AFTER UPDATE ON items BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER items_revision_delete AFTER DELETE ON items BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocations_revision_insert AFTER INSERT ON allocations BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocations_revision_update AFTER UPDATE ON allocations BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocations_revision_delete AFTER DELETE ON allocations BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payments_revision_insert AFTER INSERT ON payments BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payments_revision_update AFTER UPDATE ON payments BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payments_revision_delete AFTER DELETE ON payments BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER actions_revision_insert AFTER INSERT ON actions BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 2; END;
CREATE TRIGGER actions_revision_update AFTER UPDATE ON actions BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 2; END;
CREATE TRIGGER actions_revision_delete AFTER DELETE ON actions BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 2; END;
CREATE TRIGGER cases_revision_insert AFTER INSERT ON cases BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 3; END;
CREATE TRIGGER cases_revision_update AFTER UPDATE ON cases BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 3; END;
CREATE TRIGGER cases_revision_delete AFTER DELETE ON cases BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 3; END;
CREATE TRIGGER disputes_revision_insert AFTER INSERT ON disputes BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 4; END;
CREATE TRIGGER disputes_revision_update AFTER UPDATE ON disputes BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 4; END;
CREATE TRIGGER disputes_revision_delete AFTER DELETE ON disputes BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 4; END;
CREATE TRIGGER customers_revision_insert AFTER INSERT ON customers BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 5; END;
CREATE TRIGGER customers_revision_update AFTER UPDATE ON customers BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 5; END;
CREATE TRIGGER customers_revision_delete AFTER DELETE ON customers BEGIN UPDATE data_revision SET n = n + 1 WHERE id = 5; END;
