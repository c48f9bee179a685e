-- Where a request stands with its data sources, kept beside it so that the queue can count
-- and list its stages from one index: NULL, nothing sent yet; 'pending', a source has not
-- finished (queued, running, retrying, failed, or a team's task); 'done', every source has.
-- Triggers keep it in step with source_runs in the same transaction, whatever writes them.
ALTER TABLE requests ADD COLUMN sources_state TEXT;

UPDATE requests SET sources_state =
    CASE WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = requests.id AND r.status <> 'done')
         THEN 'pending' ELSE 'done' END
WHERE id IN (SELECT request_id FROM source_runs);

CREATE TRIGGER source_runs_state_insert AFTER INSERT ON source_runs
BEGIN
    UPDATE requests SET sources_state =
        CASE WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = NEW.request_id AND r.status <> 'done')
             THEN 'pending' ELSE 'done' END
    WHERE id = NEW.request_id;
END;

CREATE TRIGGER source_runs_state_update AFTER UPDATE OF status ON source_runs
BEGIN
    UPDATE requests SET sources_state =
        CASE WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = NEW.request_id AND r.status <> 'done')
             THEN 'pending' ELSE 'done' END
    WHERE id = NEW.request_id;
END;

CREATE TRIGGER source_runs_state_delete AFTER DELETE ON source_runs
BEGIN
    UPDATE requests SET sources_state =
        CASE WHEN NOT EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = OLD.request_id) THEN NULL
             WHEN EXISTS (SELECT 1 FROM source_runs r WHERE r.request_id = OLD.request_id AND r.status <> 'done')
             THEN 'pending' ELSE 'done' END
    WHERE id = OLD.request_id;
END;

-- The queue's stage tabs: each stage is a (status, sources_state) range of open requests,
-- listed in due order and counted from the index alone.
CREATE INDEX requests_open_stage ON requests (status, sources_state, due_on, id, kind) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
-- The queue sorted by receipt, latest first: open requests only, in order.
CREATE INDEX requests_open_received ON requests (received_on, id) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
