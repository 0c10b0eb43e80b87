-- A policy step may send the customer's statement of account with its message (the step's
-- `attach_statement`): the run copies the flag onto the action, so the dispatcher attaches
-- the statement the policy asked for when the action was planned, whatever edits follow.
ALTER TABLE actions ADD COLUMN attach_statement BIGINT NOT NULL DEFAULT 0;
