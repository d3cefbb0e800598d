// Flow (for the server's mTLS support, issue 9): PAR + PKCE (S256)
// authorization code with tls_client_auth (RFC 8705 §2.1): every request
// goes through lib.mjs's tlsClientFetch, which presents the client
// certificate, so the token is certificate-bound (cnf["x5t#S256"]). Then the
// broken bindings: userinfo over a connection without a client certificate,
// and with another client certificate.
//
// Input: {issuer, client_id, redirect_uri, scope, client_cert_pem,
// client_key_pem, optional other_client_cert_pem and other_client_key_pem
// (another certificate from the same CA), optional use_mtls_endpoint_aliases
// (true: call the discovery's mtls_endpoint_aliases)}. The harness's
// ca.clientCertificatePEM issues them. The client must be allowed to
// introspect; include offline_access in scope for the refresh step.
//
// Result: lib.mjs's code-flow result and
//   certificate_thumbprint            x5t#S256 of the client certificate;
//   introspection                     the introspection answer for the access
//                                     token (expect cnf["x5t#S256"] =
//                                     certificate_thumbprint);
//   userinfo_without_certificate      the error without a client certificate;
//   userinfo_with_other_certificate   the error with the other certificate
//                                     (null when none was given);
//   refresh                           {token_type, userinfo_sub} after a
//                                     refresh with the certificate (null
//                                     without a refresh token).
import * as oauth from 'oauth4webapi'
import { authorizationCodeFlow, certificateThumbprint, discover, refused, run, tlsClientFetch } from './lib.mjs'

run(async (input) => {
  const fetch = tlsClientFetch({ cert: input.client_cert_pem, key: input.client_key_pem })
  const transport = { fetch }
  const as = await discover(input.issuer, transport)
  const client = { client_id: input.client_id, use_mtls_endpoint_aliases: Boolean(input.use_mtls_endpoint_aliases) }
  const clientAuth = oauth.TlsClientAuth()
  const { tokens, result } = await authorizationCodeFlow({
    as, client, clientAuth, redirectUri: input.redirect_uri, scope: input.scope, transport,
  })
  const sub = result.id_token_claims.sub
  const withFetch = (f) => (f ? { [oauth.customFetch]: f } : {})
  const userinfo = (accessToken, f) => async () =>
    oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, accessToken, withFetch(f)))

  result.certificate_thumbprint = certificateThumbprint(input.client_cert_pem)
  result.introspection = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, withFetch(fetch)))

  result.userinfo_without_certificate = await refused('the certificate-bound token without a certificate', userinfo(tokens.access_token))
  result.userinfo_with_other_certificate = null
  if (input.other_client_cert_pem) {
    const other = tlsClientFetch({ cert: input.other_client_cert_pem, key: input.other_client_key_pem })
    result.userinfo_with_other_certificate = await refused('the certificate-bound token with another certificate',
      userinfo(tokens.access_token, other))
  }

  result.refresh = null
  if (tokens.refresh_token) {
    const refreshed = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, withFetch(fetch)))
    const info = await userinfo(refreshed.access_token, fetch)()
    result.refresh = { token_type: refreshed.token_type, userinfo_sub: info.sub }
  }
  return result
})
