DROP INDEX exports_transfer_token;
ALTER TABLE exports DROP COLUMN transfer_token_hash;
ALTER TABLE requests DROP COLUMN subject_birth_date;
ALTER TABLE requests DROP COLUMN acting;
