-- Each client's own count of changes, moved by every change logged for it,
-- in the order they commit (the row's lock orders them): an instance's
-- mirror never replaces what it holds with an older read.
ALTER TABLE clients ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
