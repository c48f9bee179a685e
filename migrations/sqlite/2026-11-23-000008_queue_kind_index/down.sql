DROP INDEX requests_open_kind_due;
