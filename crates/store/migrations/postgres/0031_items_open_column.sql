-- SQLite's `items.open_minor` became a plain column kept by triggers (its index-only reads
-- ignore generated columns). PostgreSQL's index-only scans read generated columns from the
-- index: its column stays generated. This file keeps the two folders' names in step.
SELECT 1;
