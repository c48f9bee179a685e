-- The public portal: what a person fills in, the links mailed to them, their documents and
-- the messages they exchange with the privacy team.

ALTER TABLE requests ADD COLUMN country TEXT;
ALTER TABLE requests ADD COLUMN representative BOOLEAN NOT NULL DEFAULT FALSE;
-- Kind-specific answers of the form (JSON object), e.g. {"scope": "part", "part": "…"}.
ALTER TABLE requests ADD COLUMN form TEXT NOT NULL DEFAULT '{}';
ALTER TABLE requests ADD COLUMN email_confirmed_at TIMESTAMP;
-- An open request of the same kind from the same address that this one repeats.
ALTER TABLE requests ADD COLUMN duplicate_of BIGINT REFERENCES requests (id);

-- Magic links: only the SHA-256 of the 256-bit token is kept.
CREATE TABLE request_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX request_tokens_request ON request_tokens (request_id);

-- Identity documents, mandates and attachments. The file lives under the storage folder with
-- a random name; once decided or purged, the file is deleted and the row keeps only the facts.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    storage_name TEXT,
    original_name TEXT,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    decision TEXT,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    deleted_at TIMESTAMP
);
CREATE INDEX documents_request ON documents (request_id, id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    document_id BIGINT REFERENCES documents (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_request ON messages (request_id, id);
