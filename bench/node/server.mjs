// node-oidc-provider 9, the peer srbench measures Strongroom beside.
// In memory (persists nothing), client_credentials, introspection, DPoP, and
// JWT access tokens through a resource indicator whose accessTokenFormat is
// 'jwt' (ES256). Configured from the environment:
//   PORT (default 3000), ISSUER (default http://127.0.0.1:PORT),
//   OPAQUE_CLIENT_ID/OPAQUE_CLIENT_SECRET, JWT_CLIENT_ID/JWT_CLIENT_SECRET,
//   RESOURCE (default urn:strongroom:bench), SCOPE (default payments).
// Prints "listening <issuer>" when ready.
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const port = Number(process.env.PORT || 3000);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const resource = process.env.RESOURCE || 'urn:strongroom:bench';
const scope = process.env.SCOPE || 'payments';

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return v;
}

// A Map-backed adapter capped at MAX entries (oldest out first): the
// library's default memory adapter is an LRU of only 1,000 entries, which
// would evict a pool of pre-minted tokens under load.
const MAX = Number(process.env.MAX_ENTRIES || 200000);
const store = new Map();
class MapAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const k = this.key(id);
    store.delete(k);
    store.set(k, { payload, exp: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    if (payload.grantId) {
      const g = `grant:${payload.grantId}`;
      const list = store.get(g)?.payload || [];
      list.push(k);
      store.set(g, { payload: list, exp: 0 });
    }
    while (store.size > MAX) store.delete(store.keys().next().value);
  }
  async find(id) {
    const e = store.get(this.key(id));
    if (!e) return undefined;
    if (e.exp && e.exp < Date.now()) { store.delete(this.key(id)); return undefined; }
    return e.payload;
  }
  async findByUserCode() { return undefined; }
  async findByUid(uid) {
    for (const [, e] of store) if (e.payload && e.payload.uid === uid) return e.payload;
    return undefined;
  }
  async consume(id) { const e = store.get(this.key(id)); if (e) e.payload.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    const g = `grant:${grantId}`;
    for (const k of store.get(g)?.payload || []) store.delete(k);
    store.delete(g);
  }
}

const es = await generateKeyPair('ES256', { extractable: true });
const rs = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const keys = [
  { ...(await exportJWK(es.privateKey)), alg: 'ES256', use: 'sig', kid: 'es256' },
  { ...(await exportJWK(rs.privateKey)), alg: 'RS256', use: 'sig', kid: 'rs256' },
];

const clients = [];
for (const [prefix] of [['OPAQUE'], ['JWT']]) {
  const id = process.env[`${prefix}_CLIENT_ID`];
  if (!id) continue;
  clients.push({
    client_id: id,
    client_secret: need(`${prefix}_CLIENT_SECRET`),
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
  });
}
if (clients.length === 0) need('OPAQUE_CLIENT_ID');

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients,
  jwks: { keys },
  scopes: ['openid', scope],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    dPoP: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget();
        return {
          scope,
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  ttl: { ClientCredentials: 600 },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err.message));

provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
