-- Bank statement matching: who paid (name, IBAN, learnt for next time), how sure the match is,
-- and the reconciliation queue (payments whose customer a person must confirm).
ALTER TABLE payments ADD COLUMN payer_name TEXT;
ALTER TABLE payments ADD COLUMN payer_iban TEXT;
-- matched (allocated automatically or by its columns), unmatched (waits for a person), confirmed (by a person)
ALTER TABLE payments ADD COLUMN status TEXT NOT NULL DEFAULT 'matched';
ALTER TABLE payments ADD COLUMN confidence BIGINT;
ALTER TABLE payments ADD COLUMN match_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN suggested_customer_id BIGINT REFERENCES customers(id);
CREATE INDEX payments_payer_iban ON payments (creditor_id, payer_iban);
CREATE INDEX payments_status ON payments (creditor_id, status);
