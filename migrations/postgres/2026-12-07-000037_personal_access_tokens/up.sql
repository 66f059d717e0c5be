-- Personal access tokens: a user's credential for one team, named, scoped
-- (portal permissions up to their role, API scopes up to the team's
-- policy), expiring; kept as the SHA-256 of the token, shown once; made
-- from a sign-in that gave a second factor, or not.
CREATE TABLE personal_access_tokens (
    token_id     TEXT PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    team_id      TEXT NOT NULL REFERENCES teams (team_id),
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    revoked_by   TEXT,
    second_factor BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX personal_access_tokens_by_user ON personal_access_tokens (user_id);
CREATE INDEX personal_access_tokens_by_team ON personal_access_tokens (team_id);
