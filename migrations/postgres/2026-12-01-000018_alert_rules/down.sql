DROP TABLE alert_states;
DROP TABLE alert_rules;
