// Package password holds end-user password handling: argon2id hashing in
// PHC format (Hash, Verify, rehash on login), the password policy (length,
// common-password list), the Authenticator that checks a username and
// password against storage.Users, and the HashLimiter that bounds
// concurrent argon2id computations per node (logins and user creation
// share it; beyond it callers get ErrBusy).
//
// Never here: throttling of attempts (authz's Throttle), client secrets
// (authz.SecretHasher: a fast keyed hash for full-entropy secrets), HTTP.
package password
