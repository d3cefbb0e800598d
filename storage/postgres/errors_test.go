package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/strongroom/strongroom/storage"
)

func TestMapError(t *testing.T) {
	tests := map[string]struct {
		err  error
		want error // nil: no sentinel
	}{
		"ok/nil":                {nil, nil},
		"ok/no-rows":            {fmt.Errorf("scan: %w", pgx.ErrNoRows), storage.ErrNotFound},
		"ok/unique":             {&pgconn.PgError{Code: "23505"}, storage.ErrAlreadyExists},
		"ok/foreign-key":        {&pgconn.PgError{Code: "23503"}, storage.ErrNotFound},
		"ok/serialization":      {&pgconn.PgError{Code: "40001"}, storage.ErrConflict},
		"ok/deadlock":           {&pgconn.PgError{Code: "40P01"}, storage.ErrConflict},
		"ok/admin-shutdown":     {&pgconn.PgError{Code: "57P01"}, storage.ErrUnavailable},
		"ok/cannot-connect-now": {&pgconn.PgError{Code: "57P03"}, storage.ErrUnavailable},
		"ok/connection-failure": {&pgconn.PgError{Code: "08006"}, storage.ErrUnavailable},
		"ok/too-many-conns":     {&pgconn.PgError{Code: "53300"}, storage.ErrUnavailable},
		"ok/net":                {&net.OpError{Op: "dial", Err: errors.New("refused")}, storage.ErrUnavailable},
		"ok/closed-pool":        {puddle.ErrClosedPool, storage.ErrUnavailable},
		"ok/conn-closed":        {fmt.Errorf("query: %w", pgconn.ErrConnClosed), storage.ErrUnavailable},
		"ok/deadline":           {context.DeadlineExceeded, storage.ErrUnavailable},
		"fail/syntax":           {&pgconn.PgError{Code: "42601"}, nil},
		"fail/canceled":         {context.Canceled, nil},
		"fail/other":            {errors.New("other"), nil},
	}
	sentinels := []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrInactive, storage.ErrUnavailable}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := mapError(tc.err)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("mapError(nil) = %v", got)
				}
				return
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("mapError lost the original error: %v", got)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tc.want))
				}
			}
		})
	}
}
