-- Letters handed to a postal provider (RELANCE_POSTAL_URL): the reference it answered (a
-- tracking number, or our own idempotency key when it answered none). Set, the letter left
-- through the provider: the day's print batch and post-office list leave it out.
ALTER TABLE actions ADD COLUMN carrier_reference TEXT;
