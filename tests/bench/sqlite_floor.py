"""The floor under `relance bench import` (issue 2): how fast SQLite itself takes the benchmark's
rows into relance's `items` table, without relance, sqlx or CSV parsing.

Reads the table and index definitions from a database made by `relance init`, loads ROWS rows
into a fresh file in one transaction with Python's sqlite3 (`executemany`), then builds the
indexes, as `relance import` does on a first load, and prints each part's time.

Usage: python3 tests/bench/sqlite_floor.py RELANCE_DB OUT_DB [ROWS]
  PRAGMAS="threads=2,cache_size=-196608" (comma-separated) sets pragmas before the load.
Foreign keys are left out: Python's sqlite3 does not enforce them by default (relance does).
"""
import os
import re
import sqlite3
import sys
import time

source, path = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
schema = sqlite3.connect(source)
table = schema.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone()[0]
table = re.sub(r"REFERENCES \w+\(\w+\)", "", table)
indexes = [(name, sql) for name, sql in schema.execute(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL")]
for suffix in ("", "-wal", "-shm"):
    try:
        os.remove(path + suffix)
    except FileNotFoundError:
        pass
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = NORMAL")
db.execute("PRAGMA cache_size = -196608")
db.execute("PRAGMA temp_store = MEMORY")
for pragma in filter(None, os.environ.get("PRAGMAS", "").split(",")):
    db.execute("PRAGMA " + pragma)
db.execute(table)
rows = [(1, 1 + (i * 7919) % 200_000, "invoice", f"F-{i:08}", "2026-01-01", "2026-02-01", "EUR", 100_000 + i, 0, 1)
        for i in range(n)]
started = time.time()
db.execute("BEGIN")
db.executemany(
    "INSERT INTO items (creditor_id, customer_id, kind, number, issue_date, due_date, currency, "
    "total_minor, paid_outside_minor, import_id) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
inserted = time.time()
print(f"{n} rows inserted in {inserted - started:.2f} s ({n / (inserted - started):,.0f} rows/s)")
for name, sql in indexes:
    t = time.time()
    db.execute(sql)
    print(f"  index {name}: {time.time() - t:.2f} s")
db.execute("COMMIT")
done = time.time()
print(f"indexes and commit {done - inserted:.2f} s; overall {n / (done - started):,.0f} rows/s")
