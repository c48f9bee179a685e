-- The Reports page's figures, kept current by triggers in the transaction that moves them,
-- so the page reads a few hundred rows however many requests were ever filed.
--
-- closed_on: the day (in the deadline law's time zone) the request was closed; on_time:
-- answered (fulfilled or rejected) on or before its due date. Both are written by the
-- service that closes a request, which alone knows the law's calendar; rows closed before
-- this migration, or by a node of the previous release, are stamped at the next start or
-- nightly purge (workflow::reports::stamp_closed).
ALTER TABLE requests ADD COLUMN closed_on DATE;
ALTER TABLE requests ADD COLUMN on_time BOOLEAN;
CREATE INDEX requests_closed_unstamped ON requests (id)
    WHERE closed_at IS NOT NULL AND closed_on IS NULL;

-- One row per series, period, key and shard:
--   received: period = month of receipt (YYYY-MM), key = kind;
--   closed:   period = month of closed_at (UTC, YYYY-MM), key = status, and for answered
--             requests stamped with closed_on: days from receipt to closing, on_time 0/1
--             (otherwise -1, -1);
--   open:     period = due day (YYYY-MM-DD) of an open request whose clock runs, or
--             'stopped'; key = ''.
-- shard = id % 16 spreads the rows one busy month would share, so concurrent filings do
-- not queue on one row's lock until they commit. Counts can reach 0; readers skip those.
CREATE TABLE report_counts (
    series TEXT NOT NULL,
    period TEXT NOT NULL,
    key TEXT NOT NULL,
    days INTEGER NOT NULL,
    on_time INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (series, period, key, days, on_time, shard)
);

-- The rows of each series a request counts in (NULL period: it counts in none of that
-- series), as the triggers and the first fill below compute them.
CREATE FUNCTION report_closed_days(r requests) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN r.closed_on IS NOT NULL AND r.status IN ('fulfilled', 'rejected')
                THEN r.closed_on - r.received_on ELSE -1 END
$$;
CREATE FUNCTION report_closed_on_time(r requests) RETURNS INTEGER LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN r.closed_on IS NOT NULL AND r.status IN ('fulfilled', 'rejected')
                THEN CASE WHEN coalesce(r.on_time, false) THEN 1 ELSE 0 END ELSE -1 END
$$;
CREATE FUNCTION report_open_period(r requests) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN r.status NOT IN ('new', 'verifying', 'in_progress', 'on_hold') THEN NULL
                WHEN r.paused_since IS NULL THEN to_char(r.due_on, 'YYYY-MM-DD')
                ELSE 'stopped' END
$$;

CREATE FUNCTION report_count_add(s TEXT, p TEXT, k TEXT, d INTEGER, o INTEGER, sh INTEGER, n BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    VALUES (s, p, k, d, o, sh, n)
    ON CONFLICT (series, period, key, days, on_time, shard)
    DO UPDATE SET count = report_counts.count + EXCLUDED.count
$$;

-- Adds `n` (1 or -1) to every row the request `r` counts in, series by series, for the
-- series named in `which` ('received', 'closed', 'open').
CREATE FUNCTION report_count_request(r requests, n BIGINT, which TEXT[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    sh INTEGER := (r.id % 16)::INTEGER;
    open_period TEXT := report_open_period(r);
BEGIN
    IF 'received' = ANY (which) THEN
        PERFORM report_count_add('received', to_char(r.received_on, 'YYYY-MM'), r.kind, -1, -1, sh, n);
    END IF;
    IF 'closed' = ANY (which) AND r.closed_at IS NOT NULL THEN
        PERFORM report_count_add('closed', to_char(r.closed_at, 'YYYY-MM'), r.status,
                                 report_closed_days(r), report_closed_on_time(r), sh, n);
    END IF;
    IF 'open' = ANY (which) AND open_period IS NOT NULL THEN
        PERFORM report_count_add('open', open_period, '', -1, -1, sh, n);
    END IF;
END;
$$;

-- Moves one count from the old row of a series to the new one (NULL period: none), the two
-- rows locked in key order: every transaction takes the rows of a series in that order,
-- and the series in the order received, closed, open, so two that move counts in opposite
-- directions (one request put on hold while another resumes) never wait on each other.
CREATE FUNCTION report_count_move(s TEXT, sh INTEGER,
                                  op TEXT, ok TEXT, od INTEGER, oo INTEGER,
                                  np TEXT, nk TEXT, nd INTEGER, no INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF op IS NOT NULL AND np IS NOT NULL AND ROW(op, ok, od, oo) = ROW(np, nk, nd, no) THEN
        RETURN;
    END IF;
    IF op IS NOT NULL AND (np IS NULL OR ROW(op, ok, od, oo) < ROW(np, nk, nd, no)) THEN
        PERFORM report_count_add(s, op, ok, od, oo, sh, -1);
        IF np IS NOT NULL THEN
            PERFORM report_count_add(s, np, nk, nd, no, sh, 1);
        END IF;
    ELSE
        IF np IS NOT NULL THEN
            PERFORM report_count_add(s, np, nk, nd, no, sh, 1);
        END IF;
        IF op IS NOT NULL THEN
            PERFORM report_count_add(s, op, ok, od, oo, sh, -1);
        END IF;
    END IF;
END;
$$;

CREATE FUNCTION report_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sh INTEGER;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.closed_at IS NULL
       AND NEW.status IN ('new', 'verifying', 'in_progress', 'on_hold') THEN
        -- A filing, every one of them: one statement, no nested calls, its plan cached.
        INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
        VALUES ('received', to_char(NEW.received_on, 'YYYY-MM'), NEW.kind, -1, -1, (NEW.id % 16)::INTEGER, 1),
               ('open', CASE WHEN NEW.paused_since IS NULL THEN to_char(NEW.due_on, 'YYYY-MM-DD') ELSE 'stopped' END,
                '', -1, -1, (NEW.id % 16)::INTEGER, 1)
        ON CONFLICT (series, period, key, days, on_time, shard)
        DO UPDATE SET count = report_counts.count + EXCLUDED.count;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM report_count_request(NEW, 1, ARRAY['received', 'closed', 'open']);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_count_request(OLD, -1, ARRAY['received', 'closed', 'open']);
        RETURN NULL;
    END IF;
    -- An update moves a request between rows of a series only when what that series is
    -- keyed on changed. (Its id, hence its shard, never changes.)
    sh := (NEW.id % 16)::INTEGER;
    IF OLD.kind IS DISTINCT FROM NEW.kind OR OLD.received_on IS DISTINCT FROM NEW.received_on THEN
        PERFORM report_count_move('received', sh,
            to_char(OLD.received_on, 'YYYY-MM'), OLD.kind, -1, -1,
            to_char(NEW.received_on, 'YYYY-MM'), NEW.kind, -1, -1);
    END IF;
    IF OLD.status IS DISTINCT FROM NEW.status OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
       OR OLD.closed_on IS DISTINCT FROM NEW.closed_on OR OLD.on_time IS DISTINCT FROM NEW.on_time
       OR OLD.received_on IS DISTINCT FROM NEW.received_on THEN
        PERFORM report_count_move('closed', sh,
            to_char(OLD.closed_at, 'YYYY-MM'), OLD.status, report_closed_days(OLD), report_closed_on_time(OLD),
            to_char(NEW.closed_at, 'YYYY-MM'), NEW.status, report_closed_days(NEW), report_closed_on_time(NEW));
    END IF;
    IF report_open_period(OLD) IS DISTINCT FROM report_open_period(NEW) THEN
        PERFORM report_count_move('open', sh,
            report_open_period(OLD), '', -1, -1,
            report_open_period(NEW), '', -1, -1);
    END IF;
    RETURN NULL;
END;
$$;

INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'received', to_char(received_on, 'YYYY-MM'), kind, -1, -1, (id % 16)::INTEGER, COUNT(*)
FROM requests GROUP BY 2, 3, 6;
INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'closed', to_char(closed_at, 'YYYY-MM'), status, -1, -1, (id % 16)::INTEGER, COUNT(*)
FROM requests WHERE closed_at IS NOT NULL GROUP BY 2, 3, 6;
INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'open', report_open_period(requests), '', -1, -1, (id % 16)::INTEGER, COUNT(*)
FROM requests WHERE report_open_period(requests) IS NOT NULL GROUP BY 2, 6;

CREATE TRIGGER report_counts_follow
AFTER INSERT OR DELETE OR UPDATE OF kind, received_on, status, closed_at, closed_on, on_time, due_on, paused_since
ON requests FOR EACH ROW EXECUTE FUNCTION report_counts_follow();
