DELETE FROM signing_keys WHERE alg IN ('PS256', 'EdDSA');
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_alg_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_alg_check CHECK (alg IN ('RS256', 'ES256'));
