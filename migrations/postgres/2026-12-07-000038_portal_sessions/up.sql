-- The portal's sessions are kept beside the console's, each marked with
-- the site it signs in to: a session of one is never taken by the other.
ALTER TABLE console_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'console' CHECK (kind IN ('console', 'portal'));
-- Whether the sign-in that opened a session gave a second factor: a team
-- that requires one is reached only from such a session.
ALTER TABLE console_sessions ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;
