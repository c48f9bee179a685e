DROP TRIGGER report_counts_open_moved;
DROP TRIGGER report_counts_closed_moved;
DROP TRIGGER report_counts_received_moved;
DROP TRIGGER report_counts_delete;
DROP TRIGGER report_counts_insert;
DROP TABLE report_counts;
DROP INDEX requests_closed_unstamped;
ALTER TABLE requests DROP COLUMN on_time;
ALTER TABLE requests DROP COLUMN closed_on;
