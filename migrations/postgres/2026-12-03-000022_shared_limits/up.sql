-- What must hold across web nodes, kept here rather than in each process.
-- rate_limits: the portal's limits (and the password-reset form's). One row per limit and
-- client (key_hash: a keyed hash of the limit's name and the client's address or the mail
-- address, never either in clear): hits counted in a window that opens at the first hit and
-- closes at expires_at; a row past expires_at starts a new window, and the nightly purge
-- deletes it.
CREATE TABLE rate_limits (
    key_hash TEXT PRIMARY KEY NOT NULL,
    hits INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
-- sign_in_attempts: the staff sign-in throttle. One row per account or client address
-- (key_hash as above): attempts not yet forgiven, and when the last one arrived, in unix
-- milliseconds so that the wait (which grows with the attempts) is plain arithmetic on
-- either engine.
CREATE TABLE sign_in_attempts (
    key_hash TEXT PRIMARY KEY NOT NULL,
    attempts INTEGER NOT NULL,
    last_at_ms BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_last_at_ms ON sign_in_attempts (last_at_ms);
-- The last TOTP step an account used: a code works once, whichever node it reaches.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
