#!/usr/bin/env python3
"""Fills a migrated relance SQLite database (made with `relance init`) with N customers and M
invoices straight through SQL, for the web benchmark: fast to build, realistic shape (due dates
over the last year, a third paid, a quarter of the customers with nothing overdue)."""
import random
import sqlite3
import sys
from datetime import date, timedelta

path, customers, invoices = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
db = sqlite3.connect(path)
creditor = db.execute("SELECT id FROM creditors ORDER BY id LIMIT 1").fetchone()[0]
now = "2026-01-01T00:00:00Z"
db.executemany(
    "INSERT INTO customers (creditor_id, code, name, kind, emails, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
    ((creditor, f"C{i:07d}", f"{rng.choice(['Garage', 'Boulangerie', 'Cabinet', 'Hôtel'])} {rng.choice(['Martin', 'Durand', 'Petit', 'Moreau'])} {i}",
      "business", f"compta@c{i}.example", now, now) for i in range(customers)),
)
ids = [r[0] for r in db.execute("SELECT id FROM customers WHERE creditor_id = ? ORDER BY id", (creditor,))]
today = date.today()
def items():
    for n in range(invoices):
        issued = today - timedelta(days=rng.randrange(0, 365))
        due = issued + timedelta(days=rng.choice([30, 45, 60]))
        total = rng.randrange(5_000, 500_000)
        paid = total if rng.random() < 0.35 else 0
        yield (creditor, rng.choice(ids), "invoice", f"F{n:08d}", issued.isoformat(), due.isoformat(), "EUR", total, paid)
db.executemany(
    "INSERT INTO items (creditor_id, customer_id, kind, number, issue_date, due_date, currency, total_minor, paid_outside_minor) VALUES (?,?,?,?,?,?,?,?,?)",
    items(),
)
db.execute("INSERT INTO cases (creditor_id, customer_id, next_action_on, updated_at) SELECT DISTINCT creditor_id, customer_id, '0000-00-00', '' FROM items WHERE creditor_id = ?", (creditor,))
db.commit()
db.execute("ANALYZE")
db.close()
print(f"{customers} customers, {invoices} invoices in {path}")
