package fositestore

import (
	"github.com/strongroom/strongroom/authz/internal/authztest"
)

// Helpers shared by the tests of the authz packages (authztest).
var (
	must           = authztest.Must
	wantErr        = authztest.WantErr
	wantRFC        = authztest.WantRFC
	newMemoryStore = authztest.NewMemoryStore
	openPostgres   = authztest.OpenPostgres
	testClient     = authztest.Client
	race           = authztest.Race
)
