DROP TABLE stored_file_chunks;
DROP INDEX stored_files_unfinished;
DROP TABLE stored_files;
