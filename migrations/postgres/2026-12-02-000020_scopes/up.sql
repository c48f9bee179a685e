-- request_scopes: what a request covers, as staff confirmed it from what the person asked
-- (one row per request, none until confirmed). activities: JSON list of the register
-- activities covered, NULL for everything. For an objection to a processing other than
-- direct marketing, the balancing decision of Art. 21(1): balancing 'stop' (no compelling
-- legitimate grounds: the processing in scope stops) or 'compelling' (the objection is
-- refused on the grounds written), with who decided and when.
CREATE TABLE request_scopes (
    request_id BIGINT PRIMARY KEY NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    activities TEXT,
    confirmed_by TEXT NOT NULL,
    confirmed_at TIMESTAMP NOT NULL,
    balancing TEXT,
    grounds TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP
);
