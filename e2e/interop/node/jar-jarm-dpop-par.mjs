// Flow (for the server's signed requests and responses, issue 10): FAPI 2.0
// Message Signing with oauth4webapi. The authorization request is a request
// object signed with the client's key (issueRequestObject, RFC 9101) and
// pushed (PAR) with a private_key_jwt assertion and a DPoP proof; the
// response comes back as JARM (response_mode jwt) and is validated with
// validateJwtAuthResponse (signature against the server's JWKS, iss, aud,
// exp, state); the code is redeemed for a DPoP-bound token; the token is
// introspected in JWT form (RFC 9701: requestJwtResponse, typ
// token-introspection+jwt, signature verified with the JWKS through
// validateApplicationLevelSignature).
//
// Input: {issuer, client_id, redirect_uri, scope, private_jwk (ES256, with
// kid; signs both the assertions and the request object), optional
// authorization_details (RFC 9396: sent inside the request object; the
// hook for payment initiation)}. The client must be allowed to introspect.
//
// Result: lib.mjs's code-flow fields and
//   callback_has_plain_code  whether the callback carried a bare code
//                            (it must not: only "response");
//   jarm                     the validated JARM parameters (code, state, iss);
//   dpop_jkt                 RFC 7638 thumbprint of the DPoP public key;
//   introspection            token_introspection of the verified JWT;
//   introspection_signature  "valid" once the JWT verified with the JWKS.
import * as oauth from 'oauth4webapi'
import { ask, clientAuthFrom, discover, jwkThumbprint, run, withNonceRetry } from './lib.mjs'

run(async (input) => {
  const as = await discover(input.issuer)
  const client = {
    client_id: input.client_id,
    authorization_signed_response_alg: 'ES256',
    introspection_signed_response_alg: 'ES256',
  }
  const clientAuth = await clientAuthFrom(input)
  const requestKey = {
    key: await crypto.subtle.importKey('jwk', input.private_jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
    kid: input.private_jwk.kid,
  }
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const counter = {}

  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const params = new URLSearchParams({
    redirect_uri: input.redirect_uri,
    response_type: 'code',
    response_mode: 'jwt',
    scope: input.scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  })
  // RFC 9396 hook: payment initiation details travel inside the signed object
  if (input.authorization_details) params.set('authorization_details', JSON.stringify(input.authorization_details))

  const par = await withNonceRetry(counter, async () => {
    // a fresh object per attempt: its jti is single use
    const request = await oauth.issueRequestObject(as, client, params, requestKey)
    return oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, clientAuth, new URLSearchParams({ request }), { DPoP }))
  })
  const authorize = new URL(as.authorization_endpoint)
  authorize.searchParams.set('client_id', client.client_id)
  authorize.searchParams.set('request_uri', par.request_uri)

  const { callback } = await ask('login', { url: authorize.href })
  const callbackURL = new URL(callback)
  const callbackParams = await oauth.validateJwtAuthResponse(as, client, callbackURL, state)

  let tokenResponse
  const tokens = await withNonceRetry(counter, async () => {
    tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, input.redirect_uri, codeVerifier, { DPoP })
    return oauth.processAuthorizationCodeResponse(as, client, tokenResponse, { expectedNonce: nonce, requireIdToken: true })
  })
  const idToken = oauth.getValidatedIdTokenClaims(tokens)

  const introspectionResponse = await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, { requestJwtResponse: true })
  const introspection = await oauth.processIntrospectionResponse(as, client, introspectionResponse)
  await oauth.validateApplicationLevelSignature(as, introspectionResponse)

  return {
    request_uri_expires_in: par.expires_in,
    callback_has_plain_code: callbackURL.searchParams.has('code'),
    jarm: Object.fromEntries(callbackParams),
    token_type: tokens.token_type,
    scope: tokens.scope,
    id_token_claims: idToken,
    dpop_jkt: await jwkThumbprint(keyPair.publicKey),
    introspection,
    introspection_signature: 'valid',
    nonce_retries: counter.nonceRetries ?? 0,
  }
})
