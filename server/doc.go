// Package server is Strongroom's composition root: it opens the store, loads
// the signing keys, composes the authorization server and the HTTP front end,
// and runs them with a graceful shutdown. The CLI's serve command and the
// end-to-end tests both start the server through it.
//
// Running lives here too: both listeners (the public one and the admin API)
// go through one helper (httpListener: the http.Server with its limits,
// serve, drain, graceful shutdown), and every background worker (key
// reload, rotation, back-channel logout delivery, throttle cleanup, token
// janitor) runs under one errgroup that Serve stops and waits for before it
// returns, so the store closes last.
//
// Never here: protocol rules, request handling or storage queries (they
// belong to authz, api, web and storage); package-level state (everything
// hangs on a Server built by New); a worker that outlives Serve.
package server
