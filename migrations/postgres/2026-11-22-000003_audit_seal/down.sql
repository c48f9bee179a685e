DROP INDEX audit_log_unsealed;
UPDATE audit_log SET prev_hash = '' WHERE prev_hash IS NULL;
UPDATE audit_log SET hash = '' WHERE hash IS NULL;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash SET NOT NULL;
ALTER TABLE audit_log DROP COLUMN seq;
