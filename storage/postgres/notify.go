package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage"
)

// Reconnect backoff of a subscription whose connection was lost.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 10 * time.Second
)

// listenAppName is the application_name of subscription connections, so
// operators can tell them apart in pg_stat_activity.
const listenAppName = "strongroom-listen"

// channel returns the Postgres channel of a Notifier topic.
func channel(topic string) (string, error) {
	switch topic {
	case storage.TopicClients:
		return "strongroom_clients", nil
	case storage.TopicKeys:
		return "strongroom_keys", nil
	case storage.TopicRevokedGrants:
		return "strongroom_revoked_grants", nil
	}
	return "", fmt.Errorf("unknown topic %q", topic)
}

// notify publishes payload on topic as part of q's transaction: Postgres
// delivers it when (and only if) the transaction commits.
func notify(ctx context.Context, q querier, topic, payload string) error {
	ch, err := channel(topic)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, ch, payload); err != nil {
		return fmt.Errorf("notify %s: %w", ch, mapError(err))
	}
	return nil
}

// Subscribe calls fn with the payload of every change published on topic
// (storage.TopicClients, TopicKeys or TopicRevokedGrants) until ctx ends or the store is
// closed. It listens on a dedicated connection and returns once LISTEN is
// established, or with an error (matching storage.ErrUnavailable when the
// database cannot be reached). When the connection is lost it reconnects
// with backoff and then calls fn("") because changes may have been missed.
// fn is called from one goroutine, one payload at a time.
func (s *Store) Subscribe(ctx context.Context, topic string, fn func(payload string)) error {
	ch, err := channel(topic)
	if err != nil {
		return fmt.Errorf("postgres: subscribe: %w", err)
	}
	conn, err := s.listen(ctx, ch)
	if err != nil {
		return fmt.Errorf("postgres: subscribe to %s: %w", topic, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = conn.Close(ctx)
		return fmt.Errorf("postgres: subscribe to %s: store closed: %w", topic, storage.ErrUnavailable)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closing, cancel)
	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		defer stop()
		defer cancel()
		s.receive(ctx, conn, ch, fn)
	}()
	return nil
}

// listen opens a connection outside the pool and LISTENs on ch.
func (s *Store) listen(ctx context.Context, ch string) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig // a copy
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, mapError(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, mapError(err)
	}
	return conn, nil
}

// receive delivers notifications from conn to fn until ctx ends,
// reconnecting when the connection fails.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn, ch string, fn func(string)) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			if ctx.Err() == nil {
				fn(n.Payload)
			}
			continue
		}
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("postgres: notification connection lost, reconnecting", "channel", ch, "error", err)
		fn(storage.SubscriptionLost) // until fn(""), changes go unseen
		if conn = s.relisten(ctx, ch); conn == nil {
			return
		}
		s.logger.Info("postgres: notification connection restored", "channel", ch)
		fn("") // changes may have been missed: reload everything
	}
}

// relisten reconnects with exponential backoff until it succeeds (returning
// the connection) or ctx ends (returning nil).
func (s *Store) relisten(ctx context.Context, ch string) *pgx.Conn {
	backoff := listenMinBackoff
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		conn, err := s.listen(ctx, ch)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		s.logger.Warn("postgres: cannot listen, retrying", "channel", ch, "in", backoff, "error", err)
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// closeConn closes a listening connection, waiting at most a second for the
// server to acknowledge.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
