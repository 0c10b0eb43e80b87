-- The imports page lists a creditor's latest imports, newest first: without this index every
-- import of every creditor is read and sorted.
CREATE INDEX imports_creditor ON imports (creditor_id, id);
