-- Audit entries are appended without a hash and sealed into the chain afterwards, in `seq`
-- order, by one sealer at a time: appending no longer serialises every transaction that
-- writes an entry. Entries chained so far keep their place (seq = id).
ALTER TABLE audit_log ADD COLUMN seq BIGINT UNIQUE;
UPDATE audit_log SET seq = id;
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
