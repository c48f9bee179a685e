DROP INDEX requests_open_received;
DROP INDEX requests_open_stage;
DROP TRIGGER source_runs_state_delete;
DROP TRIGGER source_runs_state_update;
DROP TRIGGER source_runs_state_insert;
ALTER TABLE requests DROP COLUMN sources_state;
