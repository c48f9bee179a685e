-- What each data source did for a request: one row per request, source and operation
-- (access, erase, rectify, restrict, object). status: queued (a job will run it), running,
-- retrying (the last attempt failed; the job tries again later), task (a team has to do it
-- by hand), done, failed (the job's error; staff may run it again or skip it).
-- job_id: the job that owns the run; a job that is no longer the owner (the run was re-run
-- or skipped meanwhile) leaves it alone.
-- outcome is JSON: records found, rows erased / anonymised / kept (with the rule and the
-- date until which they are kept), fields changed, what the service answered.
-- staged: the encrypted file holding the records found, until the package is built.
-- recipient: set when the source is a recipient notified of the change (Art. 19).
CREATE TABLE source_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    records BIGINT,
    outcome TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    staged TEXT,
    recipient TEXT,
    comment TEXT,
    actor TEXT,
    job_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (request_id, source, operation)
);

-- The access or portability package of a request: built by the worker, reviewed by staff,
-- released to the requester for a number of days and downloads, then purged.
-- status: building, review, empty (nothing found: said in words, no file), released,
-- purged, failed. manifest: JSON list of the files with their SHA-256 and size. removed:
-- JSON list of the items staff withheld, with the reason (Art. 15(4)).
CREATE TABLE exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL UNIQUE REFERENCES requests (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    portability BOOLEAN NOT NULL DEFAULT 0,
    storage_name TEXT,
    size BIGINT,
    records BIGINT NOT NULL DEFAULT 0,
    manifest TEXT NOT NULL DEFAULT '[]',
    removed TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    built_at TIMESTAMP,
    released_at TIMESTAMP,
    released_by TEXT,
    expires_at TIMESTAMP,
    downloads INTEGER NOT NULL DEFAULT 0,
    max_downloads INTEGER NOT NULL DEFAULT 0,
    purged_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- The purge looks for released packages past their date.
CREATE INDEX exports_released ON exports (expires_at) WHERE status = 'released';

-- People who objected to direct marketing or withdrew consent, as a keyed hash of their
-- normalised address (HMAC-SHA256 under the installation's fulfilment key): other systems
-- ask whether an address is on the list without the list holding addresses.
CREATE TABLE suppressions (
    hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    request_id BIGINT REFERENCES requests (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (hash, scope)
);
