-- stored_files: the files kept in the database when storage.backend = "database" (uploads,
-- staged source data, export packages), so that every web node sees them. A file is written
-- in chunks and counts only once finished_at is set: one a crash left half-written is never
-- served, and the nightly purge deletes it. size: its bytes, known once finished.
CREATE TABLE stored_files (
    name TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX stored_files_unfinished ON stored_files (created_at) WHERE finished_at IS NULL;
-- stored_file_chunks: a stored file's bytes in order, seq from 0, each chunk a fixed size
-- but the last.
CREATE TABLE stored_file_chunks (
    name TEXT NOT NULL REFERENCES stored_files (name) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (name, seq)
);
-- The chunks are encrypted or already compressed (documents, zip): trying to compress them
-- again costs time for nothing.
ALTER TABLE stored_file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
