ALTER TABLE users DROP COLUMN attributes;
DROP TABLE user_attribute_definitions;
