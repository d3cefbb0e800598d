// Package dpop holds the building blocks a server needs to accept DPoP proofs
// (OAuth 2.0 Demonstrating Proof of Possession, RFC 9449): the proof check of
// RFC 9449 §4.3, the key's RFC 7638 thumbprint ("jkt") the tokens are bound
// to, stateless rotating server nonces, single use of every proof through a
// ReplayCache, and the "cnf" confirmation helpers for bound tokens.
//
// What lives here:
//   - Verifier.Verify: one proof, checked against the request it came with
//     (method, target URI, optional access token, nonce policy). It returns
//     a Proof (jkt and the checked claims) or an *Error whose Code is ready
//     for an OAuth response ("invalid_dpop_proof", or "use_dpop_nonce" with
//     the fresh nonce to send in a DPoP-Nonce header).
//   - NewRequest and ProofFromHeader: the Request of an *http.Request (one
//     DPoP header, method, public origin and path).
//   - NormalizeHTU: the RFC 3986 syntax- and scheme-based normalisation the
//     htu comparison uses.
//   - HMACNonces: nonces that every node issues and accepts without a shared
//     store (an HMAC of a time slot under a key derived from a server secret);
//     NonceMode: the required/optional/off policy of serve --dpop-nonce.
//   - ReplayCache and StoreReplayCache (storage.JTIs, so PostgreSQL or memory);
//     the Redis implementation lives in authz/dpop/redisreplay, and both pass
//     the one suite in authz/dpop/replaytest.
//   - Confirmation, JKTFromClaims, CheckBinding and ValidJKT: the cnf claim
//     of a bound token, reading it back, the constant-time check that a
//     proof's key is the bound one, and the form check of a dpop_jkt.
//   - ResourceChallenge: the WWW-Authenticate value of a protected resource.
//
// What never lives here: HTTP handlers, response writing, fosite types, token
// issuance or client policy (which client must use DPoP, or nonces). Those
// belong to the endpoints that call Verify; this package only answers "is
// this proof good for this request, and for which key".
//
// The package does its cryptography with go-jose (github.com/go-jose/go-jose/v4)
// and the standard library; it never hand-rolls signature checks.
package dpop
