DROP TABLE request_scopes;
