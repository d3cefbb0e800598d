// Package janitor deletes expired rows that traffic creates and nothing
// else removes: authorization codes and tokens, pending flows, client
// assertion jtis and browser sessions, a minute past their expiry. Every
// node runs it (Janitor.Run); the stores delete in bounded batches.
//
// Never here: revoking anything still valid, deciding lifetimes (authz.Config).
package janitor
