package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

// scrapeTimeout bounds each read a collector makes at scrape time (a
// database ping, the key list, the queue count): a slow database makes a
// series go missing, never the scrape hang.
const scrapeTimeout = 2 * time.Second

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

// RegisterDatabase adds strongroom_db_up (the store answers a ping at
// scrape time) and, when pool is not nil (PostgreSQL), the connection
// pool's statistics (pgxpool.Stat).
func (m *Metrics) RegisterDatabase(ping func(context.Context) error, pool *pgxpool.Pool, log *slog.Logger) {
	m.reg.MustRegister(&dbCollector{ping: ping, pool: pool, log: log,
		up:          newDesc("db_up", "1 when the database answered a ping at scrape time, 0 when it did not."),
		conns:       newDesc("db_pool_connections", "Connections in the database pool, by state (acquired, idle, constructing).", "state"),
		maxConns:    newDesc("db_pool_max_connections", "Size limit of the database pool."),
		acquires:    newDesc("db_pool_acquires_total", "Connections acquired from the database pool."),
		acquireWait: newDesc("db_pool_acquire_wait_seconds_total", "Total time spent waiting to acquire a pool connection."),
		empty:       newDesc("db_pool_empty_acquires_total", "Acquires that had to wait because the pool had no idle connection."),
		canceled:    newDesc("db_pool_canceled_acquires_total", "Acquires canceled by their context (e.g. a request that gave up)."),
		opened:      newDesc("db_pool_new_connections_total", "Connections the pool has opened."),
	})
}

// dbCollector reads the database's reachability and pool statistics.
type dbCollector struct {
	ping func(context.Context) error
	pool *pgxpool.Pool
	log  *slog.Logger

	up, conns, maxConns, acquires, acquireWait, empty, canceled, opened *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	if c.pool != nil {
		for _, d := range []*prometheus.Desc{c.conns, c.maxConns, c.acquires, c.acquireWait, c.empty, c.canceled, c.opened} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	if err := c.ping(ctx); err != nil {
		up = 0
		if c.log != nil {
			c.log.Warn("metrics: database ping failed", "err", err)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	if c.pool == nil {
		return
	}
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(c.maxConns, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.empty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.canceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.opened, prometheus.CounterValue, float64(s.NewConnsCount()))
}

// RegisterSigningKeys adds the signing-key gauges, read from list at
// scrape time: keys per algorithm and state, how long each algorithm's
// active key has signed, and — with automatic rotation on (rotation > 0) —
// the seconds until it is due to rotate (negative once overdue). now is
// the server's clock.
func (m *Metrics) RegisterSigningKeys(list func(context.Context) ([]keys.KeyInfo, error), rotation time.Duration, now func() time.Time, log *slog.Logger) {
	m.reg.MustRegister(&keyCollector{list: list, rotation: rotation, now: now, log: log,
		count:      newDesc("signing_keys", "Signing keys stored, by algorithm and state (next, active, retired, revoked).", "alg", "state"),
		activeAge:  newDesc("signing_key_active_age_seconds", "How long the active signing key of each algorithm has been signing.", "alg"),
		keyAge:     newDesc("signing_key_age_seconds", "Age of the oldest key of each algorithm and state since it was created.", "alg", "state"),
		toRotation: newDesc("signing_key_next_rotation_seconds", "Seconds until automatic rotation is due for each algorithm (negative: overdue); absent when automatic rotation is off.", "alg"),
		interval:   newDesc("signing_key_rotation_interval_seconds", "The automatic rotation interval (serve --key-rotation-interval); 0 when off."),
	})
}

// keyCollector reads the stored signing keys.
type keyCollector struct {
	list     func(context.Context) ([]keys.KeyInfo, error)
	rotation time.Duration
	now      func() time.Time
	log      *slog.Logger

	count, activeAge, keyAge, toRotation, interval *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *keyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.count, c.activeAge, c.keyAge, c.toRotation, c.interval} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *keyCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.interval, prometheus.GaugeValue, c.rotation.Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	infos, err := c.list(ctx)
	if err != nil {
		if c.log != nil {
			c.log.Warn("metrics: cannot list signing keys", "err", err)
		}
		return
	}
	now := c.now()
	type algState struct{ alg, state string }
	count := map[algState]int{}
	oldest := map[algState]time.Time{}
	for _, k := range infos {
		as := algState{k.Alg, k.State}
		count[as]++
		if o, ok := oldest[as]; !ok || k.CreatedAt.Before(o) {
			oldest[as] = k.CreatedAt
		}
		if k.State != storage.KeyStateActive {
			continue
		}
		since := k.CreatedAt
		if k.ActivatedAt != nil {
			since = *k.ActivatedAt
		}
		ch <- prometheus.MustNewConstMetric(c.activeAge, prometheus.GaugeValue, now.Sub(since).Seconds(), k.Alg)
		if c.rotation > 0 {
			ch <- prometheus.MustNewConstMetric(c.toRotation, prometheus.GaugeValue, since.Add(c.rotation).Sub(now).Seconds(), k.Alg)
		}
	}
	for as, n := range count {
		ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n), as.alg, as.state)
		ch <- prometheus.MustNewConstMetric(c.keyAge, prometheus.GaugeValue, now.Sub(oldest[as]).Seconds(), as.alg, as.state)
	}
}

// RegisterBackchannelQueue adds strongroom_backchannel_logout_queue_depth:
// the back-channel logout deliveries waiting in the outbox (sent or retried
// by the worker), read from depth at scrape time.
func (m *Metrics) RegisterBackchannelQueue(depth func(context.Context) (int64, error), log *slog.Logger) {
	m.reg.MustRegister(&queueCollector{depth: depth, log: log,
		desc: newDesc("backchannel_logout_queue_depth", "Back-channel logout deliveries waiting in the outbox (due or scheduled for a retry)."),
	})
}

type queueCollector struct {
	depth func(context.Context) (int64, error)
	log   *slog.Logger
	desc  *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, err := c.depth(ctx)
	if err != nil {
		if c.log != nil {
			c.log.Warn("metrics: cannot count back-channel logout deliveries", "err", err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
