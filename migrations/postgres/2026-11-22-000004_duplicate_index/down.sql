DROP INDEX requests_email_kind;
CREATE INDEX requests_email ON requests (requester_email);
