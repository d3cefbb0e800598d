// Flow: PAR + PKCE (S256) authorization code with client_secret_basic (or
// private_key_jwt when the input has private_jwk) through the login page,
// the ID token validated (claims and signature), userinfo with the access
// token.
//
// Input: {issuer, client_id, client_secret or private_jwk, redirect_uri, scope}.
import { authorizationCodeFlow, clientAuthFrom, discover, run } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = { client_id: input.client_id }
  const { result } = await authorizationCodeFlow({
    as, client, clientAuth: await clientAuthFrom(input), redirectUri: input.redirect_uri, scope: input.scope,
  })
  return result
})
