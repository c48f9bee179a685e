DROP TABLE messages;
DROP TABLE documents;
DROP TABLE request_tokens;
ALTER TABLE requests DROP COLUMN duplicate_of;
ALTER TABLE requests DROP COLUMN email_confirmed_at;
ALTER TABLE requests DROP COLUMN form;
ALTER TABLE requests DROP COLUMN representative;
ALTER TABLE requests DROP COLUMN country;
