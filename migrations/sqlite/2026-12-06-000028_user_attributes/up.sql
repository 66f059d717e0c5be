-- Custom user attributes: the schema an admin defines (name, type, what it
-- means), and each user's values as a JSON object checked against it.
CREATE TABLE user_attribute_definitions (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
ALTER TABLE users ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
