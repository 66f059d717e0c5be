// node-oidc-provider, the comparison peer: client credentials issuing RS256
// JWT access tokens (as Portcullis does), introspection, and a JWKS.
// oidc-provider cannot introspect JWT access tokens, so the introspection
// benchmark uses its opaque tokens (resource urn:bench:opaque).
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'read',
  }],
  jwks: { keys: [{ ...signing, kid: 'bench', use: 'sig', alg: 'RS256' }] },
  scopes: ['read'],
  ttl: { ClientCredentials: 900 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:jwt',
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'read',
        audience: resource,
        accessTokenTTL: 900,
        accessTokenFormat: resource === 'urn:bench:opaque' ? 'opaque' : 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.error(`peer listening on ${port}`));
