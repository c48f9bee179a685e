-- Where a request stands with its data sources, kept beside it so that the queue can count
-- and list its stages from one index: NULL, nothing sent yet; 'pending', a source has not
-- finished (queued, running, retrying, failed, or a team's task); 'done', every source has.
-- A trigger keeps it in step with source_runs in the same transaction, whatever writes them.
ALTER TABLE requests ADD COLUMN sources_state TEXT;

UPDATE requests SET sources_state =
    CASE WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = requests.id AND r.status <> 'done')
         THEN 'pending' ELSE 'done' END
WHERE id IN (SELECT request_id FROM source_runs);

CREATE FUNCTION source_runs_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rid BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        rid := OLD.request_id;
    ELSE
        rid := NEW.request_id;
    END IF;
    -- The request's row first: two runs of one request finishing at once take turns, and the
    -- second one's count (a new statement, a new snapshot) sees the first one's run.
    PERFORM 1 FROM requests WHERE id = rid FOR UPDATE;
    UPDATE requests SET sources_state =
        CASE WHEN NOT EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = rid) THEN NULL
             WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = rid AND r.status <> 'done')
             THEN 'pending' ELSE 'done' END
    WHERE id = rid;
    RETURN NULL;
END
$$;

CREATE TRIGGER source_runs_state AFTER INSERT OR DELETE OR UPDATE OF status ON source_runs
    FOR EACH ROW EXECUTE FUNCTION source_runs_state();

-- The queue's stage tabs: each stage is a (status, sources_state) range of open requests,
-- listed in due order and counted from the index alone.
CREATE INDEX requests_open_stage ON requests (status, sources_state, due_on, id, kind) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
-- The queue sorted by receipt, latest first: open requests only, in order.
CREATE INDEX requests_open_received ON requests (received_on, id) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
