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
-- shard: always 0 here, where writers take turns anyway (on PostgreSQL, id % 16 spreads the
-- rows one busy month would share, so concurrent filings do not queue on one row's lock).
-- Counts can reach 0; readers skip those rows.
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

INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'received', substr(received_on, 1, 7), kind, -1, -1, 0, COUNT(*)
FROM requests GROUP BY 2, 3, 6;
INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'closed', substr(closed_at, 1, 7), status, -1, -1, 0, COUNT(*)
FROM requests WHERE closed_at IS NOT NULL GROUP BY 2, 3, 6;
INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
SELECT 'open', CASE WHEN paused_since IS NULL THEN due_on ELSE 'stopped' END, '', -1, -1, 0, COUNT(*)
FROM requests WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold') GROUP BY 2, 6;

CREATE TRIGGER report_counts_insert AFTER INSERT ON requests
BEGIN
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    VALUES ('received', substr(NEW.received_on, 1, 7), NEW.kind, -1, -1, 0, 1)
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    SELECT 'closed', substr(NEW.closed_at, 1, 7), NEW.status,
           CASE WHEN NEW.closed_on IS NOT NULL AND NEW.status IN ('fulfilled', 'rejected')
                THEN CAST(julianday(NEW.closed_on) - julianday(NEW.received_on) AS INTEGER) ELSE -1 END,
           CASE WHEN NEW.closed_on IS NOT NULL AND NEW.status IN ('fulfilled', 'rejected')
                THEN coalesce(NEW.on_time, 0) ELSE -1 END,
           0, 1
    WHERE NEW.closed_at IS NOT NULL
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    SELECT 'open', CASE WHEN NEW.paused_since IS NULL THEN NEW.due_on ELSE 'stopped' END, '', -1, -1, 0, 1
    WHERE NEW.status IN ('new', 'verifying', 'in_progress', 'on_hold')
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER report_counts_delete AFTER DELETE ON requests
BEGIN
    UPDATE report_counts SET count = count - 1
    WHERE series = 'received' AND period = substr(OLD.received_on, 1, 7) AND key = OLD.kind
      AND days = -1 AND on_time = -1 AND shard = 0;
    UPDATE report_counts SET count = count - 1
    WHERE OLD.closed_at IS NOT NULL AND series = 'closed' AND period = substr(OLD.closed_at, 1, 7)
      AND key = OLD.status
      AND days = CASE WHEN OLD.closed_on IS NOT NULL AND OLD.status IN ('fulfilled', 'rejected')
                      THEN CAST(julianday(OLD.closed_on) - julianday(OLD.received_on) AS INTEGER) ELSE -1 END
      AND on_time = CASE WHEN OLD.closed_on IS NOT NULL AND OLD.status IN ('fulfilled', 'rejected')
                         THEN coalesce(OLD.on_time, 0) ELSE -1 END
      AND shard = 0;
    UPDATE report_counts SET count = count - 1
    WHERE OLD.status IN ('new', 'verifying', 'in_progress', 'on_hold') AND series = 'open'
      AND period = CASE WHEN OLD.paused_since IS NULL THEN OLD.due_on ELSE 'stopped' END
      AND key = '' AND days = -1 AND on_time = -1 AND shard = 0;
END;

-- An update moves a request from one row of a series to another only when what that series
-- is keyed on changed: the old row loses one, the new one gains one.
CREATE TRIGGER report_counts_received_moved AFTER UPDATE OF kind, received_on ON requests
WHEN OLD.kind IS NOT NEW.kind OR OLD.received_on IS NOT NEW.received_on
BEGIN
    UPDATE report_counts SET count = count - 1
    WHERE series = 'received' AND period = substr(OLD.received_on, 1, 7) AND key = OLD.kind
      AND days = -1 AND on_time = -1 AND shard = 0;
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    VALUES ('received', substr(NEW.received_on, 1, 7), NEW.kind, -1, -1, 0, 1)
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER report_counts_closed_moved AFTER UPDATE OF status, closed_at, closed_on, on_time, received_on ON requests
WHEN OLD.status IS NOT NEW.status OR OLD.closed_at IS NOT NEW.closed_at OR OLD.closed_on IS NOT NEW.closed_on
  OR OLD.on_time IS NOT NEW.on_time OR OLD.received_on IS NOT NEW.received_on
BEGIN
    UPDATE report_counts SET count = count - 1
    WHERE OLD.closed_at IS NOT NULL AND series = 'closed' AND period = substr(OLD.closed_at, 1, 7)
      AND key = OLD.status AND days = CASE WHEN OLD.closed_on IS NOT NULL AND OLD.status IN ('fulfilled', 'rejected')
                THEN CAST(julianday(OLD.closed_on) - julianday(OLD.received_on) AS INTEGER) ELSE -1 END
      AND on_time = CASE WHEN OLD.closed_on IS NOT NULL AND OLD.status IN ('fulfilled', 'rejected')
                THEN coalesce(OLD.on_time, 0) ELSE -1 END
      AND shard = 0;
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    SELECT 'closed', substr(NEW.closed_at, 1, 7), NEW.status,
           CASE WHEN NEW.closed_on IS NOT NULL AND NEW.status IN ('fulfilled', 'rejected')
                THEN CAST(julianday(NEW.closed_on) - julianday(NEW.received_on) AS INTEGER) ELSE -1 END,
           CASE WHEN NEW.closed_on IS NOT NULL AND NEW.status IN ('fulfilled', 'rejected')
                THEN coalesce(NEW.on_time, 0) ELSE -1 END,
           0, 1
    WHERE NEW.closed_at IS NOT NULL
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER report_counts_open_moved AFTER UPDATE OF status, due_on, paused_since ON requests
WHEN (OLD.status IN ('new', 'verifying', 'in_progress', 'on_hold')) IS NOT (NEW.status IN ('new', 'verifying', 'in_progress', 'on_hold'))
  OR OLD.due_on IS NOT NEW.due_on OR OLD.paused_since IS NOT NEW.paused_since
BEGIN
    UPDATE report_counts SET count = count - 1
    WHERE OLD.status IN ('new', 'verifying', 'in_progress', 'on_hold') AND series = 'open'
      AND period = CASE WHEN OLD.paused_since IS NULL THEN OLD.due_on ELSE 'stopped' END
      AND key = '' AND days = -1 AND on_time = -1 AND shard = 0;
    INSERT INTO report_counts (series, period, key, days, on_time, shard, count)
    SELECT 'open', CASE WHEN NEW.paused_since IS NULL THEN NEW.due_on ELSE 'stopped' END, '', -1, -1, 0, 1
    WHERE NEW.status IN ('new', 'verifying', 'in_progress', 'on_hold')
    ON CONFLICT (series, period, key, days, on_time, shard) DO UPDATE SET count = count + 1;
END;
