-- How the requester acts for the person whose data it is: 'self', 'representative' (with a
-- mandate) or 'parent' (a holder of parental authority for a minor child, with a proof of it).
-- `representative` keeps meaning what it meant (a mandate was given): true exactly when
-- acting = 'representative'.
ALTER TABLE requests ADD COLUMN acting TEXT NOT NULL DEFAULT 'self';
UPDATE requests SET acting = 'representative' WHERE representative;
-- The child's date of birth when a parent acts: a child of age is refused at filing.
ALTER TABLE requests ADD COLUMN subject_birth_date DATE;
-- Portable data sent to another organisation (GDPR art. 20(2)): the hash of the download
-- link mailed to it when the package is released (the link itself is never stored).
ALTER TABLE exports ADD COLUMN transfer_token_hash TEXT;
CREATE UNIQUE INDEX exports_transfer_token ON exports (transfer_token_hash);
