// Flow: client_credentials with private_key_jwt; oauth4webapi signs the
// client assertion with the private key whose public half the test
// registered; the token is introspected (RFC 7662) with the same client
// authentication. An assertion signed with another key is refused
// (invalid_client).
//
// Input: {issuer, client_id, private_jwk, scope} (private_jwk with kid and alg).
import * as oauth from 'oauth4webapi'
import { clientAuthFrom, discover, refused, run } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = { client_id: input.client_id }
  const clientAuth = await clientAuthFrom(input)
  const params = new URLSearchParams({ scope: input.scope })
  const tokens = await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params))
  const introspection = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token))

  const { privateKey: otherKey } = await oauth.generateKeyPair(input.private_jwk.alg ?? 'ES256')
  const wrongKey = await refused('an assertion signed with an unregistered key', async () =>
    oauth.processClientCredentialsResponse(as, client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: otherKey, kid: input.private_jwk.kid }), params)))
  return {
    token_type: tokens.token_type,
    scope: tokens.scope,
    expires_in: tokens.expires_in,
    introspection,
    assertion_with_unregistered_key: wrongKey,
  }
})
