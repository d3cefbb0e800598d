// Flow (for the server's DPoP support, issue 9): PAR + PKCE (S256)
// authorization code with a DPoP key (RFC 9449): the PAR request, the code
// exchange, userinfo and refresh all carry oauth4webapi's DPoP proofs, and
// each retries once on use_dpop_nonce with the server's DPoP-Nonce. Then the
// broken bindings: the bound access token presented as Bearer, and with a
// proof of another key, at userinfo.
//
// Input: {issuer, client_id, redirect_uri, scope, and client_secret or
// private_jwk (see lib.mjs clientAuthFrom), optional dpop_alg (ES256 by
// default; PS256, EdDSA, RS256)}. The client must be allowed to introspect;
// include offline_access in scope for the refresh steps.
//
// Result: lib.mjs's code-flow result (token_type "dpop", nonce_retries
// counting the use_dpop_nonce retries of the whole script) and
//   dpop_jkt                  RFC 7638 thumbprint of the DPoP public key;
//   introspection             the introspection answer for the access token
//                             (expect active, token_type, cnf.jkt = dpop_jkt);
//   userinfo_as_bearer        the error for the token sent as Bearer;
//   userinfo_with_other_key   the error for a proof of another key;
//   refresh                   {token_type, userinfo_sub} after refreshing with
//                             the same key (null without a refresh token);
//   refresh_with_other_key    settle() of refreshing the new refresh token
//                             with another key (refused for public clients,
//                             RFC 9449 §5).
import * as oauth from 'oauth4webapi'
import { authorizationCodeFlow, clientAuthFrom, discover, jwkThumbprint, refused, run, settle, withNonceRetry } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = { client_id: input.client_id }
  const clientAuth = await clientAuthFrom(input)
  const alg = input.dpop_alg ?? 'ES256'
  const keyPair = await oauth.generateKeyPair(alg)
  const DPoP = oauth.DPoP(client, keyPair)
  const { tokens, result } = await authorizationCodeFlow({
    as, client, clientAuth, redirectUri: input.redirect_uri, scope: input.scope, transport: { DPoP },
  })
  const sub = result.id_token_claims.sub
  const counter = { nonceRetries: result.nonce_retries }
  const userinfo = (accessToken, options) => async () =>
    oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, accessToken, options))

  result.dpop_jkt = await jwkThumbprint(keyPair.publicKey)
  result.introspection = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token))

  result.userinfo_as_bearer = await refused('the DPoP-bound access token as Bearer', userinfo(tokens.access_token))
  const otherDPoP = oauth.DPoP(client, await oauth.generateKeyPair(alg))
  result.userinfo_with_other_key = await refused('the DPoP-bound access token with a proof of another key', () =>
    withNonceRetry({}, userinfo(tokens.access_token, { DPoP: otherDPoP })))

  result.refresh = null
  if (tokens.refresh_token) {
    const refreshed = await withNonceRetry(counter, async () =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP })))
    const info = await withNonceRetry(counter, userinfo(refreshed.access_token, { DPoP }))
    result.refresh = { token_type: refreshed.token_type, userinfo_sub: info.sub }
    const next = refreshed.refresh_token ?? tokens.refresh_token
    result.refresh_with_other_key = await settle(() => withNonceRetry({}, async () =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, next, { DPoP: otherDPoP }))))
  }
  result.nonce_retries = counter.nonceRetries ?? 0
  return result
})
