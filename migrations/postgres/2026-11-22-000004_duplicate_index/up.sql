-- The duplicate check on intake looks for the oldest open request of the same kind from the
-- same address: an index in that order stops at the first match instead of scanning every
-- request ever filed from that address.
DROP INDEX requests_email;
CREATE INDEX requests_email_kind ON requests (requester_email, kind, id);
