package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/strongroom/strongroom/storage"
)

// mapError translates a pgx error into one that matches the storage
// sentinels with errors.Is, keeping the original in the chain:
//
//   - pgx.ErrNoRows                          → storage.ErrNotFound
//   - 23505 unique_violation                 → storage.ErrAlreadyExists
//   - 23503 foreign_key_violation            → storage.ErrNotFound (the referenced client or user is missing)
//   - 40001 serialization_failure, 40P01 deadlock_detected → storage.ErrConflict
//   - connection failures: connect errors, network errors, a closed pool or
//     connection, server shutdown (class 08, 57P01–57P03, 53300), and
//     deadlines exceeded while waiting for the database → storage.ErrUnavailable
//
// Anything else is returned unchanged. Callers add what they were doing.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if sentinel := classify(err); sentinel != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}

func classify(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == "23505":
			return storage.ErrAlreadyExists
		case code == "23503":
			return storage.ErrNotFound
		case code == "40001" || code == "40P01":
			return storage.ErrConflict
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return storage.ErrUnavailable
		}
		return nil
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded):
		return storage.ErrUnavailable
	}
	return nil
}
