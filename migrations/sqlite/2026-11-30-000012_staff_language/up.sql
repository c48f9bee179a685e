-- The dashboard's language an account chose; NULL: the organisation's (organisation.language).
ALTER TABLE users ADD COLUMN lang TEXT;
