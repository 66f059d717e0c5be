-- PS256 and EdDSA keys beside RS256 and ES256.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_alg_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_alg_check CHECK (alg IN ('RS256', 'ES256', 'PS256', 'EdDSA'));
