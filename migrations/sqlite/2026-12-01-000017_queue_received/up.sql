-- The queue sorted by receipt, latest first, on SQLite. The planner never walked the earlier
-- index (received_on, id) WHERE status IN (...): the same `status IN (...)` term also fits
-- requests_status_due, whose statistics win, and it sorted 200,000 open requests of a
-- million for every page (0.4 to 0.9 s). This index's condition is spelt `+status IN (...)`,
-- which no other index can use, and the queue spells its filters the same way when it sorts
-- by receipt (store::queue). It also carries what the stage tabs and the assignee filter
-- read, so a sparse tab is filtered from the index without reading the requests.
DROP INDEX requests_open_received;
CREATE INDEX requests_open_received ON requests (received_on, id, status, sources_state, kind, assignee_id)
    WHERE +status IN ('new', 'verifying', 'in_progress', 'on_hold');
