DROP TABLE consents;
DROP TABLE interactions;
DROP TABLE sessions;
