-- The user a code was issued for, so disabling the user withdraws the codes
-- not yet redeemed. Codes live a minute and expired ones are swept, so the
-- table stays small: no index, nothing added to issuing a code.
ALTER TABLE authorization_codes ADD COLUMN user_id TEXT;
