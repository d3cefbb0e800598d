package oauth

// Metrics receives what the token service counts (metrics.Metrics
// implements it; WithMetrics sets it). Calls happen on the request path:
// they must be cheap and never block or fail.
type Metrics interface {
	// TokenIssued counts an access token issued at the token endpoint, by
	// grant type and format ("opaque" or "jwt").
	TokenIssued(grantType, format string)
	// ClientAuthFailed counts a refused client authentication, by reason
	// (one of the clientauth.Reason constants).
	ClientAuthFailed(reason string)
	// RefreshReuseDetected counts a rotated refresh token presented again
	// outside the reuse grace: its whole family was revoked.
	RefreshReuseDetected()
}

// WithMetrics sends the token service's counts to m (nil: none are kept).
func WithMetrics(m Metrics) Option {
	return func(c *core) {
		if m != nil {
			c.metrics = m
		}
	}
}

// noMetrics is the default Metrics: it keeps nothing.
type noMetrics struct{}

func (noMetrics) TokenIssued(string, string) {}
func (noMetrics) ClientAuthFailed(string)    {}
func (noMetrics) RefreshReuseDetected()      {}
