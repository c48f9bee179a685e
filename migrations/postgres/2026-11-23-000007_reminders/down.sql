DROP TABLE schedule_runs;
DROP TABLE request_reminders;
