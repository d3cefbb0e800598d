// Package examples holds the integrator guide's code (docs/integrate.md):
// a web app, a public (SPA or mobile) client, a partner server and a
// resource server, each a small package that compiles with the module and
// runs against a real Strongroom server in its own test.
package examples
