DROP INDEX requests_open_due;
DROP TABLE notes;
DROP INDEX requests_assignee;
ALTER TABLE requests DROP COLUMN assignee_id;
ALTER TABLE requests ADD COLUMN updated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
DROP TABLE password_tokens;
DROP TABLE users;
