// The strongroom command is the composition root of the server and its
// administration tool. Every command is built by a newXCmd(a *app)
// constructor from the app that main assembles (streams, logger,
// environment); there is no global state. Commands validate their flags,
// call storage and authz, and render text or JSON: they hold no business
// logic and no SQL.
//
// Exit codes: 0 success, 1 failure, 2 usage error (bad flags or arguments).
// Errors go to standard error as "strongroom: <message>".
package main
