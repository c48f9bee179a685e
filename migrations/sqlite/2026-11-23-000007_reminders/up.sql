-- Deadline reminders to staff. A side table, not columns on requests (at diesel's 32-column
-- limit): one row per open request, found by the day its next reminder is due, so the daily
-- sweep reads only the requests it has something to say about.
-- next_on is a lower bound: any change of the due date resets it to the day of the change and
-- the sweep works out the real next day; NULL while the clock is stopped.
-- last_threshold is the smallest "days left" threshold already announced: never twice.
CREATE TABLE request_reminders (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    next_on DATE,
    last_threshold INTEGER,
    last_sent_on DATE
);
-- (next_on, request_id): the sweep reads the due rows in batches by keyset on both.
CREATE INDEX request_reminders_next ON request_reminders (next_on, request_id) WHERE next_on IS NOT NULL;
-- Open requests filed before this migration: looked at by the first sweep.
INSERT INTO request_reminders (request_id, next_on)
SELECT id, received_on FROM requests WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');

-- Periodic tasks already enqueued, one row per task and period: whichever worker inserts the
-- row enqueues the job, so with several workers a task runs once per period.
CREATE TABLE schedule_runs (
    task TEXT NOT NULL,
    period TEXT NOT NULL,
    enqueued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (task, period)
);
