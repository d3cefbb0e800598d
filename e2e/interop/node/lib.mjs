// The relying party's shared steps, driven by the Go tests in e2e/interop.
//
// Protocol with the Go harness (one JSON object per line):
//   - stdin, first line: the script's input (issuer, client, keys, ...);
//   - stdout {"ask":"login","url":...}: the harness drives the login page and
//     answers on stdin with {"callback":"https://app.example.test/callback?..."};
//   - stdout, last line: {"result":{...}} (exit 0) or {"error":{...}} (exit 1).
// Nothing else is written to stdout; diagnostics go to stderr.
import './webcrypto.mjs'
import { createHash, X509Certificate } from 'node:crypto'
import * as https from 'node:https'
import { createInterface } from 'node:readline'
import * as oauth from 'oauth4webapi'

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

async function readLine() {
  const { value, done } = await stdinLines.next()
  if (done) throw new Error('the harness closed stdin')
  return JSON.parse(value)
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

// ask sends a request to the harness and waits for its answer.
export async function ask(what, payload) {
  emit({ ask: what, ...payload })
  return readLine()
}

// describeError turns what oauth4webapi throws into the JSON the Go tests
// assert on: the class, oauth4webapi's code, the HTTP status and the OAuth
// error the server sent (in the body, or in a WWW-Authenticate challenge).
// A WWWAuthenticateChallengeError also reports the body's error: a 401
// invalid_client answer carries both a challenge and a JSON body.
export async function describeError(err) {
  const out = { name: err?.name ?? typeof err, message: String(err?.message ?? err) }
  if (err?.code) out.code = err.code
  if (err instanceof oauth.ResponseBodyError) {
    out.status = err.status
    out.error = err.error
    if (err.error_description) out.error_description = err.error_description
  } else if (err instanceof oauth.WWWAuthenticateChallengeError) {
    out.status = err.status
    out.challenges = err.cause
    out.error = err.cause?.find((c) => c.parameters?.error)?.parameters.error
    // clone() throws at once if oauth4webapi already read the body
    const body = await Promise.resolve().then(() => err.response?.clone().json()).catch(() => undefined)
    if (!out.error && typeof body?.error === 'string') out.error = body.error
    if (typeof body?.error_description === 'string') out.error_description = body.error_description
  } else if (err instanceof oauth.AuthorizationResponseError) {
    out.error = err.error
    if (err.error_description) out.error_description = err.error_description
  } else if (err?.cause?.message) {
    out.message += `: ${err.cause.message}` // fetch failed: the TLS or network reason
  }
  return out
}

// run reads the input line, runs main with it and reports its result or
// error as the last line.
export async function run(main) {
  try {
    const input = await readLine()
    const result = await main(input)
    emit({ result })
    process.exitCode = 0
  } catch (err) {
    emit({ error: await describeError(err) })
    process.exitCode = 1
  } finally {
    process.stdin.destroy()
  }
}

// tlsClientFetch is a fetch for oauth4webapi's customFetch that presents a
// TLS client certificate (node:https; the built-in fetch cannot without
// undici's Agent). cert, key and ca are PEM strings; ca may be undefined
// (then NODE_EXTRA_CA_CERTS and the system roots apply).
export function tlsClientFetch({ cert, key, ca }) {
  const agent = new https.Agent({ cert, key, ca, keepAlive: false })
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers))
      let body = init.body
      if (body instanceof URLSearchParams) {
        headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8'
        body = body.toString()
      }
      const req = https.request(url, { method: init.method ?? 'GET', headers, agent, signal: init.signal }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const h = new Headers()
          for (const [k, v] of Object.entries(res.headers)) for (const x of [v].flat()) h.append(k, x)
          const noBody = [204, 205, 304].includes(res.statusCode) || init.method === 'HEAD'
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status: res.statusCode, statusText: res.statusMessage, headers: h }))
        })
      })
      req.on('error', reject)
      req.end(body)
    })
}

// clientAuthFrom returns the client authentication the input names:
// private_jwk (a private JWK with kid and alg) → private_key_jwt,
// client_secret → client_secret_basic, tls_client_auth: true →
// tls_client_auth (the certificate travels with tlsClientFetch), else none.
export async function clientAuthFrom(input) {
  if (input.private_jwk) {
    const { kid, alg = 'ES256' } = input.private_jwk
    const key = await crypto.subtle.importKey('jwk', input.private_jwk, importAlgorithm(alg), false, ['sign'])
    return oauth.PrivateKeyJwt({ key, kid })
  }
  if (input.client_secret) return oauth.ClientSecretBasic(input.client_secret)
  if (input.tls_client_auth) return oauth.TlsClientAuth()
  return oauth.None()
}

function importAlgorithm(alg) {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', namedCurve: 'P-256' }
    case 'ES384':
      return { name: 'ECDSA', namedCurve: 'P-384' }
    case 'PS256':
      return { name: 'RSA-PSS', hash: 'SHA-256' }
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    case 'EdDSA':
    case 'Ed25519':
      return { name: 'Ed25519' }
    default:
      throw new Error(`no WebCrypto import for alg ${alg}`)
  }
}

// requestOptions are the per-request options every oauth4webapi call gets:
// the DPoP handle and the custom fetch, when the flow uses them.
export function requestOptions({ DPoP, fetch } = {}) {
  const o = {}
  if (DPoP) o.DPoP = DPoP
  if (fetch) o[oauth.customFetch] = fetch
  return o
}

// discover fetches and validates the server's OpenID Provider metadata.
export async function discover(issuer, transport) {
  const url = new URL(issuer)
  const response = await oauth.discoveryRequest(url, { algorithm: 'oidc', ...requestOptions(transport) })
  return oauth.processDiscoveryResponse(url, response)
}

// withNonceRetry runs attempt (send a request, process its response) and,
// when the server answers use_dpop_nonce, runs it once more: the DPoP handle
// has taken the DPoP-Nonce header from the refusal. counter.nonceRetries
// counts the retries.
export async function withNonceRetry(counter, attempt) {
  try {
    return await attempt()
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    counter.nonceRetries = (counter.nonceRetries ?? 0) + 1
    return attempt()
  }
}

// authorizationCodeFlow runs PAR + PKCE (S256) + the authorization code
// grant with an ID token, validates the ID token (claims and signature
// against the server's JWKS), and calls userinfo with the access token.
// transport carries the DPoP handle and custom fetch, if any;
// exchangeVerifier replaces the PKCE verifier at the token endpoint (a
// broken client).
export async function authorizationCodeFlow({ as, client, clientAuth, redirectUri, scope, transport = {}, exchangeVerifier }) {
  const opts = requestOptions(transport)
  const counter = {}
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const params = new URLSearchParams({
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  })

  const par = await withNonceRetry(counter, async () =>
    oauth.processPushedAuthorizationResponse(as, client, await oauth.pushedAuthorizationRequest(as, client, clientAuth, params, opts)),
  )
  const authorize = new URL(as.authorization_endpoint)
  authorize.searchParams.set('client_id', client.client_id)
  authorize.searchParams.set('request_uri', par.request_uri)

  const { callback } = await ask('login', { url: authorize.href })
  const callbackParams = oauth.validateAuthResponse(as, client, new URL(callback), state)

  let tokenResponse
  const tokens = await withNonceRetry(counter, async () => {
    tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParams, redirectUri, exchangeVerifier ?? codeVerifier, opts)
    return oauth.processAuthorizationCodeResponse(as, client, tokenResponse, { expectedNonce: nonce, requireIdToken: true })
  })
  await oauth.validateApplicationLevelSignature(as, tokenResponse, requestOptions({ fetch: transport.fetch }))
  const idToken = oauth.getValidatedIdTokenClaims(tokens)

  const userinfo = await withNonceRetry(counter, async () =>
    oauth.processUserInfoResponse(as, client, idToken.sub, await oauth.userInfoRequest(as, client, tokens.access_token, opts)),
  )
  return {
    tokens,
    result: {
      request_uri_expires_in: par.expires_in,
      token_type: tokens.token_type,
      scope: tokens.scope,
      expires_in: tokens.expires_in,
      has_refresh_token: typeof tokens.refresh_token === 'string',
      id_token_claims: idToken,
      id_token_signature: 'valid',
      userinfo,
      nonce_retries: counter.nonceRetries ?? 0,
    },
  }
}

// refused runs attempt, which must fail, and returns the error's description
// (a broken binding or a tampered request); a success is an error.
export async function refused(what, attempt) {
  try {
    await attempt()
  } catch (err) {
    return describeError(err)
  }
  throw new Error(`${what}: the server accepted it`)
}

// settle runs attempt and reports {accepted: true} or {refused: error}, for
// outcomes the server's policy decides (e.g. whether a confidential
// client's refresh token is bound to its DPoP key, RFC 9449 §5).
export async function settle(attempt) {
  try {
    await attempt()
    return { accepted: true }
  } catch (err) {
    return { refused: await describeError(err) }
  }
}

// jwkThumbprint is the RFC 7638 SHA-256 thumbprint of a public CryptoKey,
// the value of cnf.jkt (RFC 9449 §6.1) for a DPoP key.
export async function jwkThumbprint(publicKey) {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey)
  const members = {
    EC: ['crv', 'kty', 'x', 'y'],
    RSA: ['e', 'kty', 'n'],
    OKP: ['crv', 'kty', 'x'],
  }[jwk.kty]
  if (!members) throw new Error(`no thumbprint for kty ${jwk.kty}`)
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])))
  return createHash('sha256').update(canonical).digest('base64url')
}

// certificateThumbprint is the SHA-256 thumbprint of a PEM certificate's
// DER, the value of cnf["x5t#S256"] (RFC 8705 §3.1).
export function certificateThumbprint(pem) {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url')
}
