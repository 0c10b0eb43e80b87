-- Letters for the post office (issue 5) and the litigation file's documents (issue 6).
--
-- sent_on: the day (creditor's calendar) an action was sent, as the dispatcher saw it (the day of
-- `relance run --as-of D` or of `relance send`); sent_at stays the wall-clock time. The print
-- batch and the registered-letter list select the letters of one day by it, and an
-- acknowledgement of receipt may not be dated before it. Rows sent before this migration take
-- the UTC day of sent_at.
ALTER TABLE actions ADD COLUMN sent_on TEXT;
UPDATE actions SET sent_on = substr(sent_at, 1, 10) WHERE sent_at IS NOT NULL;
CREATE INDEX actions_sent_on ON actions (creditor_id, sent_on);
