-- What follows an answer.
--
-- restrictions: a restriction of processing in force after a restriction request was
-- fulfilled (Art. 18). ground: the case of Art. 18(1) the person gave (accuracy, unlawful,
-- legal_claims, objection_pending), none when not asked. sources: JSON list of the source ids
-- that restricted. state: active, lift_scheduled (the person was told: lifted on lift_on),
-- lift_task (a source could not lift it: the team must), lifted. lift_reason and lift_by:
-- why and who decided the lift; notice_sent_at: when the notice went to the outbox;
-- outcome: JSON of what the sources did when lifting, or what the team wrote.
CREATE TABLE restrictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL UNIQUE REFERENCES requests (id) ON DELETE CASCADE,
    ground TEXT,
    sources TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    since TIMESTAMP NOT NULL,
    lift_on DATE,
    lift_reason TEXT,
    lift_by TEXT,
    notice_sent_at TIMESTAMP,
    lifted_at TIMESTAMP,
    outcome TEXT
);
CREATE INDEX restrictions_state ON restrictions (state);

-- retention_holds: rows kept under a legal obligation during an erasure, one per source and
-- table, until their retention ends; then the worker erases them (state ended) or leaves it
-- to the team (task, then ended). keys: JSON list of the values of the table's match column
-- that found the person's rows when they were kept (found again after the person's other
-- rows, which the search went through, are gone); emptied once the rows are erased.
CREATE TABLE retention_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    what TEXT NOT NULL,
    rows_kept BIGINT NOT NULL,
    activity TEXT NOT NULL,
    rule TEXT NOT NULL,
    until DATE NOT NULL,
    keys TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    outcome TEXT
);
CREATE INDEX retention_holds_until ON retention_holds (state, until);
CREATE INDEX retention_holds_request ON retention_holds (request_id);

-- fees: a fee decided on a request, for further copies (Art. 15(3)) or a manifestly
-- unfounded or excessive request (Art. 12(5)(a)), in whole cents of euro. state: asked,
-- paid, waived.
CREATE TABLE fees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    basis TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    settled_by TEXT,
    settled_at TIMESTAMP
);
CREATE INDEX fees_request ON fees (request_id);
