-- The person a representative acts for (none when the requester acts for themselves): the
-- data sources are searched for them, while mails go to the requester. Their name, and their
-- address or customer reference (at least one: the sources match on one of those).
ALTER TABLE requests ADD COLUMN subject_name TEXT;
ALTER TABLE requests ADD COLUMN subject_email TEXT;
ALTER TABLE requests ADD COLUMN subject_customer_ref TEXT;
-- The duplicate check on intake compares addresses without case (Camille@Example.org is
-- camille@example.org): an index on the lowered address, in the check's order.
CREATE INDEX requests_email_lower_kind ON requests (lower(requester_email), kind, id);
