DROP INDEX requests_open_received;
CREATE INDEX requests_open_received ON requests (received_on, id) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
