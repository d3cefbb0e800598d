// The strongroom command is the composition root of the server and its
// administration tool. Every command is built by a newXCmd(a *app)
// constructor from the app that main assembles (streams, logger,
// environment); there is no global state. Commands validate their flags,
// call the administration services and render text or JSON: they hold no
// business logic and no SQL. In local mode the services run over the
// database, built by server.NewAdminServices as serve builds them; with
// --endpoint the same interfaces are served by the admin API's Go client
// (api/admin/client). The shared scaffolding of the commands (open a
// backend, confirm, print a list or a result) is in scaffold.go.
//
// Exit codes: 0 success, 1 failure, 2 usage error (bad flags or arguments).
// Errors go to standard error as "strongroom: <message>".
package main
