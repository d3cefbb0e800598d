// Package interop holds end-to-end tests in which a real relying party,
// panva's oauth4webapi on Node.js, talks to a real Strongroom (PostgreSQL
// store) over real TLS: the server's certificate comes from a throwaway test
// CA that Node trusts through NODE_EXTRA_CA_CERTS.
//
// The relying party lives in node/: package.json and package-lock.json pin
// oauth4webapi (its only dependency); lib.mjs holds the shared steps (PAR +
// PKCE authorization code flow, DPoP nonce retry, a fetch that presents a
// TLS client certificate); each *.mjs script is one flow. TestMain runs
// `npm ci` into node/node_modules (gitignored) when it is missing or was
// installed from another lock file. A missing node or npm fails the
// package: it never skips (.ci/run installs Debian's nodejs and npm).
//
// A test runs one script with runRP: the script reads its input as one JSON
// line on stdin, asks the harness to drive the login page ({"ask":"login"},
// answered with the callback URL), and ends with one {"result":…} or
// {"error":…} line that the test decodes and asserts on.
//
// Adding a flow is one script and one test: write node/FLOW.mjs with
// lib.mjs's run, start a server with startTLS (its mutate may change the
// server configuration, e.g. request client certificates), register a
// client, runRP(t, "FLOW.mjs", input) and assert on the result.
// node/dpop-par-pkce.mjs (dpop_test.go) and node/tls-client-auth-par-pkce.mjs
// (tlsclientauth_test.go) run the DPoP and tls_client_auth flows, and
// node/jar-jarm-dpop-par.mjs (jar_test.go) FAPI 2.0 Message Signing (a
// signed request object at PAR, JARM, JWT introspection); their header
// comments name their input and result.
//
// This package holds tests only.
package interop
