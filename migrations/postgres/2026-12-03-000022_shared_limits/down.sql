ALTER TABLE users DROP COLUMN totp_last_step;
DROP TABLE sign_in_attempts;
DROP TABLE rate_limits;
