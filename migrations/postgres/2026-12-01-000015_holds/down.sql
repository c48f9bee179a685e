DROP TABLE fees;
DROP TABLE retention_holds;
DROP TABLE restrictions;
