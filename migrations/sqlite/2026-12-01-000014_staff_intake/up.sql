-- How to reach the person other than by email, beside the request rather than in new columns
-- on `requests`: most requests have none of it, it is personal data purged with the request,
-- and the queue's wide table stays as it is. `prefers_post`: every answer goes by letter
-- (chosen, or no email given). `received_registered`: the number of the registered letter
-- the request came by. The address is the one a window envelope shows: lines, postcode, city,
-- country (ISO code or a name as written).
CREATE TABLE request_contacts (
    request_id BIGINT PRIMARY KEY NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    prefers_post BOOLEAN NOT NULL DEFAULT 0,
    address_lines TEXT,
    postcode TEXT,
    city TEXT,
    country TEXT,
    received_registered TEXT
);
