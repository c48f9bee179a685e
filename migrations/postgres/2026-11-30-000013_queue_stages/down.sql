DROP INDEX requests_open_received;
DROP INDEX requests_open_stage;
DROP TRIGGER source_runs_state ON source_runs;
DROP FUNCTION source_runs_state();
ALTER TABLE requests DROP COLUMN sources_state;
