// Broken client: PAR + PKCE (S256) through the login page, then the code
// exchanged with a code_verifier that does not match the challenge. RFC 7636
// §4.6: the token endpoint refuses it with invalid_grant; oauth4webapi must
// surface that as a ResponseBodyError (the script's error line).
//
// Input: {issuer, client_id, client_secret, redirect_uri, scope}.
import * as oauth from 'oauth4webapi'
import { authorizationCodeFlow, clientAuthFrom, discover, run } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = { client_id: input.client_id }
  await authorizationCodeFlow({
    as, client, clientAuth: await clientAuthFrom(input), redirectUri: input.redirect_uri, scope: input.scope,
    exchangeVerifier: oauth.generateRandomCodeVerifier(),
  })
  throw new Error('the token endpoint accepted a wrong PKCE code_verifier')
})
