-- Dormant customers, found incrementally. A full look (one GROUP BY over every invoice of the
-- ledger) costs about 0.6 s at a million invoices: too much for a daily run whose other work
-- grows with the cases due. A customer's dormancy only changes when their case changes (an
-- invoice, a payment, a dispute: each has the case planned again) or when a date comes; so:
--
-- * `cases.dormancy_check_on`: the next day this customer's dormancy must be looked at again
--   (the day they turn dormant, or their next future-dated invoice's issue date); NULL when
--   only a change of their case can change it;
-- * `dormancy_pending`: the customers whose case the planner wrote since the follow-up run last
--   looked (written by the planning run's chunks, emptied by the follow-up run);
-- * `dormancy_watch`: per creditor, the months of silence the dates were computed with and the
--   day of the last look. Another number of months (or `relance run --full`) looks at everyone.
ALTER TABLE cases ADD COLUMN dormancy_check_on TEXT;
CREATE INDEX cases_dormancy_check ON cases (creditor_id, dormancy_check_on);
CREATE TABLE dormancy_pending (
    creditor_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (creditor_id, customer_id)
) WITHOUT ROWID;
CREATE TABLE dormancy_watch (
    creditor_id BIGINT PRIMARY KEY REFERENCES creditors(id),
    months BIGINT NOT NULL,
    checked_on TEXT NOT NULL
);
