package migrations

import "embed"

// FS holds every migration file (*.sql) at its root.
//
//go:embed *.sql
var FS embed.FS
