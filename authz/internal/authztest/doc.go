// Package authztest holds the helpers the tests of the authz packages
// share: a fixed clock instant and system secret, stores, a client
// registration, fake signing keys, an authorization request, assertions,
// and concurrency helpers.
//
// Never here: anything a non-test build uses. It does not import authz, so
// that authz's own tests can use it.
package authztest
