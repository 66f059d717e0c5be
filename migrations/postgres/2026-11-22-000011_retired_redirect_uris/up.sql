-- Redirect URIs an update removed, which keep working until expires_at so
-- that a change does not break sign-ins already under way.
CREATE TABLE retired_redirect_uris (
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    retired_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, redirect_uri)
);
