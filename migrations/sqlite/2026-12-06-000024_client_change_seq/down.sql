ALTER TABLE clients DROP COLUMN change_seq;
