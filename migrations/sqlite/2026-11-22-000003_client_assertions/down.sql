DROP TABLE client_assertion_jtis;
