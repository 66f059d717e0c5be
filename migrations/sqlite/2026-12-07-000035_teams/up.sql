-- Teams: a team owns clients, and its policy (JSON: what its
-- clients may be, how many, second factors, scopes needing approval, secret
-- lifetimes) bounds what its members set. Members hold one role each;
-- invitations are kept as the SHA-256 of their one-time link's token,
-- accepted once, before they expire.
CREATE TABLE teams (
    team_id    TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    policy     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams (team_id),
    user_id   TEXT NOT NULL REFERENCES users (user_id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members (user_id);

CREATE TABLE team_invitations (
    invitation_hash BLOB PRIMARY KEY,
    invitation_id   TEXT NOT NULL UNIQUE,
    team_id         TEXT NOT NULL REFERENCES teams (team_id),
    role            TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    accepted_by     TEXT,
    accepted_at     TIMESTAMP
);
CREATE INDEX team_invitations_by_team ON team_invitations (team_id);
