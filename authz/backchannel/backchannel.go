package backchannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// LogoutEvent is the event a logout token carries (OIDC
// Back-Channel Logout 1.0 §2.4).
const LogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifespan is a logout token's exp - iat: short (§2.4), since it
// is signed afresh for every attempt.
const logoutTokenLifespan = 2 * time.Minute

// TokenType is the typ header of logout tokens (§2.4, RFC 8725 §3.11).
const TokenType = "logout+jwt" // #nosec G101 -- a JWT typ value, not a credential

// Config tunes the worker that delivers back-channel logout
// tokens from the durable outbox (storage.LogoutOutbox). Zero fields take
// their defaults.
type Config struct {
	// PollInterval is how often the outbox is checked for due deliveries (default 1 s).
	PollInterval time.Duration
	// Lease hides a claimed delivery from every other worker while it is
	// being sent (default 1 min); a worker that dies mid-send is retried after it.
	Lease time.Duration
	// BaseDelay is the wait before the first retry; it doubles per attempt
	// up to MaxDelay (defaults 2 s and 10 min).
	BaseDelay, MaxDelay time.Duration
	// MaxAttempts bounds the attempts per delivery (default 10); then it is
	// dropped and the failure audited.
	MaxAttempts int
	// Timeout bounds one POST (default 5 s).
	Timeout time.Duration
	// BatchSize caps the deliveries claimed at once (default 16).
	BatchSize int
	// HTTPClient sends the tokens; redirects are never followed. Default: a
	// client with Timeout.
	HTTPClient *http.Client
}

// ApplyDefaults fills every zero field.
func (c *Config) ApplyDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PollInterval, time.Second)
	def(&c.Lease, time.Minute)
	def(&c.BaseDelay, 2*time.Second)
	def(&c.MaxDelay, 10*time.Minute)
	def(&c.Timeout, 5*time.Second)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 16
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout}
	}
}

// backoff is the wait after the given number of failed attempts.
func (c *Config) backoff(attempts int) time.Duration {
	d := c.BaseDelay
	for i := 1; i < attempts && d < c.MaxDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxDelay)
}

// Sender signs and delivers the back-channel logout tokens that ending a
// browser session queued (authz.SessionManager), from the durable outbox.
// Every node may run it: a delivery is claimed under a lease.
type Sender struct {
	Store storage.Store
	// Keys signs logout tokens with the client's ID token algorithm.
	Keys authz.KeySource
	// Issuer is the tokens' iss; DefaultAlg signs for clients without an
	// id_token_signed_response_alg.
	Issuer, DefaultAlg string
	// SID derives the sid claim from a session id (oauth.Authorizer.SessionSID).
	SID func(sessionID string) string
	Now func() time.Time
	Log *slog.Logger
}

// Run delivers queued logout tokens until ctx ends. Every
// node runs one; the outbox's claims keep them from sending a delivery twice
// at once.
func (s *Sender) Run(ctx context.Context, cfg Config) {
	cfg.ApplyDefaults()
	t := time.NewTicker(cfg.PollInterval)
	defer t.Stop()
	for {
		for {
			n, err := s.Deliver(ctx, cfg)
			if err != nil && ctx.Err() == nil {
				s.Log.Warn("back-channel logout: claiming deliveries failed", "err", err)
			}
			if err != nil || n < cfg.BatchSize {
				break // the outbox is drained (or unavailable): wait for the next tick
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Deliver claims due deliveries once, sends each, and
// reports how many it claimed. A delivery answered 2xx is done; a network
// error, 5xx or 429 is retried with exponential backoff up to MaxAttempts;
// any other answer (the client refused the token, §2.8) is not retried.
// Outcomes other than a retry are audited.
func (s *Sender) Deliver(ctx context.Context, cfg Config) (int, error) {
	cfg.ApplyDefaults()
	claimed, err := s.Store.ClaimLogoutDeliveries(ctx, s.Now(), cfg.Lease, cfg.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("claim logout deliveries: %w", err)
	}
	for _, d := range claimed {
		if ctx.Err() != nil {
			break // the lease returns unsent deliveries to the queue
		}
		s.deliver(ctx, &cfg, d)
	}
	return len(claimed), nil
}

// deliver sends one claimed delivery and records the outcome.
func (s *Sender) deliver(ctx context.Context, cfg *Config, d storage.LogoutDelivery) {
	log := s.Log.With("client_id", d.ClientID, "delivery", d.ID, "attempt", d.Attempts)
	retry, sendErr := s.send(ctx, cfg, d)
	var err error
	switch {
	case sendErr == nil:
		err = s.finishDelivery(ctx, d, storage.OutcomeSuccess, "")
		log.Info("back-channel logout delivered")
	case retry && d.Attempts < cfg.MaxAttempts:
		next := s.Now().Add(cfg.backoff(d.Attempts))
		err = s.Store.RetryLogoutDelivery(ctx, d.ID, next, truncateErr(sendErr))
		log.Warn("back-channel logout failed; will retry", "err", sendErr, "next_attempt_at", next)
	default:
		err = s.finishDelivery(ctx, d, storage.OutcomeFailure, truncateErr(sendErr))
		log.Error("back-channel logout failed; giving up", "err", sendErr)
	}
	if err != nil && ctx.Err() == nil {
		log.Error("back-channel logout: recording the outcome failed", "err", err)
	}
}

// finishDelivery removes the delivery and audits its outcome, atomically.
func (s *Sender) finishDelivery(ctx context.Context, d storage.LogoutDelivery, outcome, lastErr string) error {
	return storage.InTx(ctx, s.Store, func(ctx context.Context) error {
		if err := s.Store.CompleteLogoutDelivery(ctx, d.ID); err != nil {
			return err
		}
		details := map[string]string{"attempts": strconv.Itoa(d.Attempts), "session": authz.ShortID(d.SessionID)}
		if lastErr != "" {
			details["error"] = lastErr
		}
		return s.Store.AppendAudit(ctx, &storage.AuditEvent{
			Time: s.Now().UTC(), Actor: authz.ActorSystem, Action: "logout.backchannel", Target: d.ClientID,
			Outcome: outcome, Details: details,
		})
	})
}

// errPermanent marks a delivery the client refused: retrying cannot help.
var errPermanent = errors.New("refused by the client")

// send POSTs a fresh logout token to the client's back-channel logout URI
// (§2.5) and reports whether a failure is worth retrying.
func (s *Sender) send(ctx context.Context, cfg *Config, d storage.LogoutDelivery) (retry bool, err error) {
	c, err := s.Store.GetClient(ctx, d.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, fmt.Errorf("client deleted: %w", errPermanent)
	}
	if err != nil {
		return true, fmt.Errorf("get client: %w", err)
	}
	target := c.Metadata.BackchannelLogoutURI
	if target == "" {
		return false, fmt.Errorf("client no longer has a back-channel logout URI: %w", errPermanent)
	}
	token, err := s.LogoutToken(ctx, c, d.Subject, d.SessionID)
	if err != nil {
		return true, err
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return false, fmt.Errorf("build request: %w", errPermanent)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := *cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which the operator registered: no secret
		return true, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("HTTP %d", resp.StatusCode)
	default:
		return false, fmt.Errorf("HTTP %d: %w", resp.StatusCode, errPermanent)
	}
}

// LogoutToken signs a logout token (OIDC Back-Channel Logout 1.0 §2.4) for
// the client: iss, aud (the client id), iat, exp, jti, sub, sid (derived
// from the session id as in ID tokens) and the back-channel logout event; no
// nonce. It is signed with the client's ID token algorithm and typed
// logout+jwt.
func (s *Sender) LogoutToken(ctx context.Context, c *storage.Client, subject, sessionID string) (string, error) {
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = s.DefaultAlg
	}
	now := s.Now().UTC()
	claims := jwt.MapClaims{
		"iss":    s.Issuer,
		"aud":    c.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenLifespan).Unix(),
		"jti":    uuid.NewString(),
		"events": map[string]any{LogoutEvent: map[string]any{}},
	}
	if subject != "" {
		claims["sub"] = subject
	}
	if sessionID != "" {
		claims["sid"] = s.SID(sessionID)
	}
	header := &jwt.Headers{Extra: map[string]any{"alg": alg, "typ": TokenType}}
	token, _, err := s.Keys.Signer(alg).Generate(ctx, claims, header)
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return token, nil
}

func truncateErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
