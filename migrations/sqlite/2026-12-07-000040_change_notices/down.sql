-- SQLite serves one instance: its change-log follower polls, and nothing
-- is announced (PostgreSQL's migration adds a NOTIFY trigger).
SELECT 1;
