ALTER TABLE authorization_codes DROP COLUMN user_id;
