DROP TABLE request_contacts;
