DROP INDEX requests_email_lower_kind;
ALTER TABLE requests DROP COLUMN subject_customer_ref;
ALTER TABLE requests DROP COLUMN subject_email;
ALTER TABLE requests DROP COLUMN subject_name;
