-- End users. password_hash is an argon2id PHC string; claims are the OpenID
-- Connect standard claims as JSON. username is kept in lower case.
CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    claims        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    disabled_at   TIMESTAMP
);
