-- The foundation: requests and their timeline, API keys, jobs, the mail outbox and the audit trail.
-- Timestamps are UTC. Dates (received_on, due_on, paused_since) are local dates in the
-- organisation's time zone, fixed when the event happened so a later change of zone never
-- moves a deadline that was already promised.

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    ref_year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    held_from TEXT,
    profile TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    requester_email TEXT NOT NULL,
    customer_ref TEXT,
    details TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    received_on DATE NOT NULL,
    due_on DATE NOT NULL,
    paused_days INTEGER NOT NULL DEFAULT 0,
    paused_since DATE,
    extension_months INTEGER NOT NULL DEFAULT 0,
    extension_days INTEGER NOT NULL DEFAULT 0,
    verified_at TIMESTAMP,
    verified_method TEXT,
    closed_at TIMESTAMP,
    reject_ground TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX requests_status_due ON requests (status, due_on, id);
CREATE INDEX requests_kind ON requests (kind, id);
CREATE INDEX requests_email ON requests (requester_email);

CREATE TABLE request_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX request_events_request ON request_events (request_id, id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    last_error TEXT,
    locked_until TIMESTAMP,
    locked_by TEXT,
    dedup_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_ready ON jobs (status, run_at);

CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    request_id INTEGER REFERENCES requests (id) ON DELETE SET NULL,
    template TEXT NOT NULL,
    language TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE audit_log (
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
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
