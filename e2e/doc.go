// Package e2e holds the end-to-end tests. Each starts the real server
// (server/servertest) on a fresh PostgreSQL database and talks to it over
// HTTP as relying parties, browsers (cookie jars; e2e/browser drives
// Chromium) and operators (admin API, the CLI binary) do. Tests seed data
// and check what a request left behind through the store or SQL.
//
// Tests wait on conditions (poll, eventually), never by sleeping for a
// fixed time. The server has no clock to inject, so a test of an expiry
// polls for its observable effect; waitPast is only for the few instants
// that nothing observable marks (see wait_test.go).
package e2e
