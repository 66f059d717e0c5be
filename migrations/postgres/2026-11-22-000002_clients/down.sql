DROP TABLE change_log;
DROP TABLE client_secrets;
DROP TABLE client_versions;
DROP TABLE clients;
