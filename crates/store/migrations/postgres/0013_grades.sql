-- Payer grades (issue 9): the grade (A–E) last computed for each customer, so that a policy can
-- route by grade (`conditions.grades`). Derived data: `relance run` refreshes it when a policy
-- uses grades; NULL until then.
ALTER TABLE customers ADD COLUMN grade TEXT;
