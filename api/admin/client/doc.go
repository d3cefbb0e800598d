// Package client is the Go client of Strongroom's admin API (api/admin,
// described by api/openapi.yaml). It speaks the API's wire types (the
// authz/admin services' values and api/admin's own), takes its request
// paths from api/admin's route table (admin.Path), and turns problem
// documents back into errors that match the services' own with errors.Is
// and errors.As, so that a caller (the CLI's remote mode) answers alike
// whether it runs the services locally or through the API.
//
// What must never live here: command-line concerns (flags, output
// formats), or any storage type.
package client
