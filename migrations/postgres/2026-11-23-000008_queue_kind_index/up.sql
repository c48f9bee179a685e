-- The queue filtered by kind: without this, the planner walks every request of that kind
-- (closed ones included) and sorts them; with it, a range scan in due order that stops at
-- the page's end.
CREATE INDEX requests_open_kind_due ON requests (kind, due_on, id) WHERE status IN ('new', 'verifying', 'in_progress', 'on_hold');
