package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a limit: Events per Per on average, with up to Burst at once.
// The zero Rate means "no limit".
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Off is the Rate that never limits.
var Off = Rate{}

// Limits on what a Rate may say, so that the token-bucket arithmetic stays
// exact and a typo cannot create a limit nobody meets or everybody does.
const (
	maxEvents = 1_000_000
	maxBurst  = 10_000_000
)

// units are the periods ParseRate accepts, by suffix.
var units = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

// ParseRate reads a rate as operators write it: "50/s", "600/m", "1000/h"
// (events per second, minute or hour); "off" or "0" is Off. The burst is
// set separately (WithBurst); ParseRate makes it twice the events (two
// periods' worth at once).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Off, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want <events>/<s|m|h>, e.g. 50/s, or off", s)
	}
	per, ok := units[strings.TrimSpace(unit)]
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: the period must be s, m or h", s)
	}
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || events < 1 || events > maxEvents {
		return Rate{}, fmt.Errorf("rate %q: the events must be a whole number from 1 to %d", s, maxEvents)
	}
	return Rate{Events: events, Per: per, Burst: 2 * events}, nil
}

// WithBurst returns r with the given burst; a burst of 0 keeps r's.
func (r Rate) WithBurst(burst int) Rate {
	if burst > 0 && !r.IsOff() {
		r.Burst = burst
	}
	return r
}

// IsOff reports whether r never limits.
func (r Rate) IsOff() bool { return r.Events == 0 }

// Validate checks a Rate built by hand (configuration, a stored override).
func (r Rate) Validate() error {
	switch {
	case r.IsOff():
		if r.Burst != 0 {
			return errors.New("a burst needs a rate")
		}
		return nil
	case r.Events < 1 || r.Events > maxEvents:
		return fmt.Errorf("the events must be from 1 to %d", maxEvents)
	case r.Per != time.Second && r.Per != time.Minute && r.Per != time.Hour:
		return errors.New("the period must be a second, a minute or an hour")
	case r.Burst < 1 || r.Burst > maxBurst:
		return fmt.Errorf("the burst must be from 1 to %d", maxBurst)
	}
	return nil
}

// String writes r as ParseRate reads it ("50/s"); "off" for Off.
func (r Rate) String() string {
	if r.IsOff() {
		return "off"
	}
	unit := "s"
	switch r.Per {
	case time.Minute:
		unit = "m"
	case time.Hour:
		unit = "h"
	}
	return strconv.Itoa(r.Events) + "/" + unit
}

// PerSecond is r's sustained rate in events per second.
func (r Rate) PerSecond() float64 {
	if r.IsOff() {
		return math.Inf(1)
	}
	return float64(r.Events) / r.Per.Seconds()
}

// Interval is the time one event's allowance takes to come back (the GCRA
// emission interval).
func (r Rate) Interval() time.Duration {
	if r.IsOff() {
		return 0
	}
	return r.Per / time.Duration(r.Events)
}

// Window is the time an empty bucket takes to refill its whole burst: the
// window of the RateLimit-Policy header (its quota is the burst).
func (r Rate) Window() time.Duration { return time.Duration(r.Burst) * r.Interval() }

// The defaults of serve's flags: far above what a normal application sends
// (a client caches its tokens; a browser sign-in is about ten requests),
// far below a flood (thousands a second).
var (
	// DefaultAddress is the default limit of one source address (an IPv6
	// /64) over every public endpoint.
	DefaultAddress = Rate{Events: 200, Per: time.Second, Burst: 400}
	// DefaultClient is the default limit of one client at the token, PAR,
	// introspection and revocation endpoints.
	DefaultClient = Rate{Events: 100, Per: time.Second, Burst: 200}
)

// ParseOverride reads a client's own limit as registered
// (storage.ClientMetadata RateLimit and RateLimitBurst); ok is false when
// the client has none (or it does not parse: registration validates it).
func ParseOverride(limit string, burst int) (r Rate, ok bool) {
	if limit == "" {
		return Rate{}, false
	}
	r, err := ParseRate(limit)
	if err != nil {
		return Rate{}, false
	}
	r = r.WithBurst(burst)
	if r.Validate() != nil {
		return Rate{}, false
	}
	return r, true
}
