CREATE TABLE audit_log_chained (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_log_chained (id, at, actor, action, target_type, target_id, details, prev_hash, hash)
    SELECT id, at, actor, action, target_type, target_id, details, COALESCE(prev_hash, ''), COALESCE(hash, '') FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_chained RENAME TO audit_log;
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
