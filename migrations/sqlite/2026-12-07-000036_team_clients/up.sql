-- A client belongs to a team, or to none (admin-managed); a member may
-- enable again only a client a member disabled. A member's
-- change that adds a scope the team's policy reserves for an admin's
-- approval files a scope request; an admin approves or rejects it, or its
-- requester withdraws it, once.
ALTER TABLE clients ADD COLUMN team_id TEXT REFERENCES teams (team_id);
CREATE INDEX clients_by_team ON clients (team_id);
ALTER TABLE clients ADD COLUMN disabled_by_team BOOLEAN NOT NULL DEFAULT FALSE;

-- A team's owners issue initial access tokens whose clients land in the team.
ALTER TABLE initial_access_tokens ADD COLUMN team_id TEXT REFERENCES teams (team_id);

CREATE TABLE scope_requests (
    request_id   TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (client_id),
    team_id      TEXT NOT NULL REFERENCES teams (team_id),
    scopes       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    decided_by   TEXT,
    decided_at   TIMESTAMP,
    reason       TEXT
);
CREATE INDEX scope_requests_by_client ON scope_requests (client_id);
CREATE INDEX scope_requests_by_state ON scope_requests (state);
