// Flow: PAR + PKCE authorization code with offline_access, then the refresh
// token grant; userinfo with the refreshed access token; the refresh token
// that was rotated away is refused (invalid_grant) when presented again.
//
// Input: {issuer, client_id, client_secret, redirect_uri, scope}
// (scope includes offline_access).
import * as oauth from 'oauth4webapi'
import { authorizationCodeFlow, clientAuthFrom, discover, refused, run } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = { client_id: input.client_id }
  const clientAuth = await clientAuthFrom(input)
  const { tokens, result } = await authorizationCodeFlow({
    as, client, clientAuth, redirectUri: input.redirect_uri, scope: input.scope,
  })
  if (!tokens.refresh_token) throw new Error('no refresh token in the code exchange')
  const sub = result.id_token_claims.sub

  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token))
  const userinfo = await oauth.processUserInfoResponse(as, client, sub,
    await oauth.userInfoRequest(as, client, refreshed.access_token))
  const rotated = typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token
  const out = {
    token_type: refreshed.token_type,
    scope: refreshed.scope,
    expires_in: refreshed.expires_in,
    new_access_token: refreshed.access_token !== tokens.access_token,
    refresh_token_rotated: rotated,
    id_token_claims: oauth.getValidatedIdTokenClaims(refreshed) ?? null,
    userinfo,
  }
  if (rotated) {
    out.old_refresh_token_reuse = await refused('the rotated-away refresh token', async () =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token)))
  }
  return out
})
