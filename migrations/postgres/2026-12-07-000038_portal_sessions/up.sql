-- The portal's sessions are kept beside the console's, each marked with
-- the site it signs in to: a session of one is never taken by the other.
ALTER TABLE console_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'console' CHECK (kind IN ('console', 'portal'));
