package api

import _ "embed"

// OpenAPI is the admin API's description (OpenAPI 3.1), served at
// /admin/v1/openapi.yaml and checked against the implementation in tests.
//
//go:embed openapi.yaml
var OpenAPI []byte
