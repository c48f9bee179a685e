DROP TABLE audit_log;
DROP TABLE mail_outbox;
DROP TABLE jobs;
DROP TABLE api_keys;
DROP TABLE request_events;
DROP TABLE requests;
