-- The Reports page and the register read requests by month of receipt and of closing.
-- (received_on, id): the register pages through a range in order of receipt by keyset.
CREATE INDEX requests_received ON requests (received_on, id);
-- Closed requests only, with the outcome, so counting them per month reads the index alone.
CREATE INDEX requests_closed ON requests (closed_at, status) WHERE closed_at IS NOT NULL;
