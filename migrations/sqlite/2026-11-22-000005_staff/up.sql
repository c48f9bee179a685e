-- The privacy team: accounts, one-time links to set a password, and who handles a request.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    -- argon2id PHC string; NULL until the invited person sets a password.
    password_hash TEXT,
    totp_secret TEXT,
    -- Raised by "log out everywhere", a password change or a role change: older sessions end.
    session_epoch INTEGER NOT NULL DEFAULT 0,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

-- Links that let a person set their password (invitation, reset): only the hash is kept.
CREATE TABLE password_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

-- The last change of a request is in its timeline; the column duplicated it.
ALTER TABLE requests DROP COLUMN updated_at;
ALTER TABLE requests ADD COLUMN assignee_id BIGINT REFERENCES users (id);
CREATE INDEX requests_assignee ON requests (assignee_id, status, due_on, id);

-- Internal notes of the team on a request: never shown to the requester.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notes_request ON notes (request_id, id);

-- The team's queue: open requests by due date. A partial index keeps it a range scan however
-- many closed requests pile up.
CREATE INDEX requests_open_due ON requests (due_on, id) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
