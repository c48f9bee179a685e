-- Staff sessions, kept here so that signing out ends one on every web node: the cookie
-- carries a random token, this table only its SHA-256.
CREATE TABLE staff_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The account's session_epoch when the session opened: raising it ends the session.
    epoch INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Updated at most once a minute, which is all the idle timeout needs.
    last_seen_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
-- "Sign out everywhere" ends the sessions of one account.
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
