DROP TABLE suppressions;
DROP TABLE exports;
DROP TABLE source_runs;
