package e2e

import (
	"time"

	"github.com/strongroom/strongroom/server/servertest"
)

// The tests wait on conditions, never for a fixed time. The server offers
// no clock to inject (server.Config has none, fosite reads time.Now and
// PostgreSQL judges expiry by now()), so a test of an expiry polls for its
// observable effect. Only where nothing observable changes does a test wait
// for the instant itself, with waitPast: an idle session (judged when it is
// next used, and using it extends it) and a next signing key's readiness.

// poll and eventually wait on a condition (servertest.Poll and
// servertest.Eventually, shared with the browser tests).
var (
	poll       = servertest.Poll
	eventually = servertest.Eventually
)

// waitPast returns once the wall clock, which the server and PostgreSQL
// judge expiry by, has passed instant. It is for the few waits that are the
// test itself (see above); anything that can be polled is.
func waitPast(instant time.Time) {
	if d := time.Until(instant); d >= 0 {
		<-time.After(d + time.Millisecond)
	}
}
