-- Experiments (A/B tests of a policy step): the experiment an action's step runs and the
-- customer's arm in it ('A' or 'B'); NULL for steps without one. `relance report experiment`
-- compares the arms' payments from these.
ALTER TABLE actions ADD COLUMN experiment TEXT;
ALTER TABLE actions ADD COLUMN variant TEXT;
