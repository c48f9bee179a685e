DROP INDEX requests_closed;
DROP INDEX requests_received;
