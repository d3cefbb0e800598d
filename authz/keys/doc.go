// Package keys manages the asymmetric keys that sign ID tokens and JWT access
// tokens.
//
// # Key life cycle
//
// Keys live in storage (storage.Keys) in one of three states: next (published
// in the JWKS so that relying parties can cache it before it signs anything),
// active (signing; at most one per algorithm) and retired (published for
// verification until every token it signed has expired). A rotation moves
// each key one step; see storage.KeyStateNext and friends.
//
// Manager.Rotate activates the next key only once it has been published for
// the JWKS cache lifetime plus PropagationDelay (Policy.PublishLead), so that
// every relying party has it cached before it signs; Force skips the wait in
// an emergency. Retired and revoked keys are removed once every token they
// signed has expired (Policy.RemoveAt). Manager.Revoke withdraws a
// compromised key at once: it leaves the JWKS, tokens it signed stop
// verifying, and the next key takes over if it was active. Manager.Rewrap
// re-encrypts every private key under a new KEK. Each change is read, checked
// and written inside one storage.Keys.UpdateKeys call (an advisory lock on
// PostgreSQL) together with its audit event, after generating any new key
// outside it, so that concurrent rotations on several nodes make exactly one
// change (the others get ErrAlreadyRotated). AutoRotate runs scheduled
// rotation on every node on that basis.
//
// # Encryption at rest
//
// The private part of every key is serialized as PKCS#8 DER and encrypted
// with AES-256-GCM under a 32-byte key-encryption key (KEK) from the server
// configuration (ParseKEK). The 12-byte random nonce is prepended to the
// ciphertext and the kid is bound as additional authenticated data, so a
// ciphertext copied onto another row does not decrypt. Private keys never
// appear in errors or logs.
//
// # Serving
//
// Manager keeps an immutable snapshot of the key set (active signer per
// algorithm, verification keys by kid, the JWKS document already serialized)
// behind an atomic pointer. Reload builds a new snapshot from storage and
// swaps it in; Watch reloads on every storage.TopicKeys notification and on
// a fallback interval. Signing and JWKS serving read the snapshot only: no
// database round trip and no lock on the hot path.
//
// Manager.Signer adapts the manager to fosite's token/jwt.Signer so that
// fosite's OpenID Connect and JWT access token strategies sign with the
// active key and verify against every published key.
package keys
