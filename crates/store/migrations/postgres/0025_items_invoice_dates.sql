-- The follow-up half of the daily run looks for customers without an invoice for months
-- (dormant customers): their first and last invoice dates per customer. This index lets the
-- engine walk the invoices already grouped by customer instead of sorting the whole ledger.
CREATE INDEX IF NOT EXISTS items_invoice_dates ON items (creditor_id, customer_id, issue_date) WHERE kind = 'invoice';
