-- directives: post-mortem directives (art. 85 loi Informatique et Libertés) as the team
-- recorded them when it carried out a directives request. Whose they are: the person's name,
-- their address lower-cased (found again without case) and customer reference, as an heir's
-- request names the deceased. kind: general or specific; fate: keep, erase or communicate;
-- instructions: in the person's words; the designee, when they named one. A change ends the
-- version in force (ended_reason superseded) and records the new one; a withdrawal ends it
-- (withdrawn). Ended versions are kept: they prove what was on file and when.
CREATE TABLE directives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_name TEXT NOT NULL,
    person_email TEXT,
    customer_ref TEXT,
    kind TEXT NOT NULL,
    fate TEXT NOT NULL,
    instructions TEXT NOT NULL,
    designee_name TEXT,
    designee_email TEXT,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    ended_at TIMESTAMP,
    ended_reason TEXT,
    ended_by_request BIGINT REFERENCES requests (id)
);
CREATE INDEX directives_email ON directives (person_email, ended_at);
CREATE INDEX directives_customer_ref ON directives (customer_ref, ended_at);
CREATE INDEX directives_request ON directives (request_id);
