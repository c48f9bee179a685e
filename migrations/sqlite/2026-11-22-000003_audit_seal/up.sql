-- Audit entries are appended without a hash and sealed into the chain afterwards, in `seq`
-- order, by one sealer at a time: appending no longer serialises every transaction that
-- writes an entry. Entries chained so far keep their place (seq = id).
CREATE TABLE audit_log_sealed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    details TEXT NOT NULL,
    seq BIGINT UNIQUE,
    prev_hash TEXT,
    hash TEXT
);
INSERT INTO audit_log_sealed (id, at, actor, action, target_type, target_id, details, seq, prev_hash, hash)
    SELECT id, at, actor, action, target_type, target_id, details, id, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_sealed RENAME TO audit_log;
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;
