package clientauth

import (
	"strconv"
	"sync"
	"time"
)

// Failed authentications of one client are audited at most
// failureAuditBurst times per failureAuditWindow; the rest are counted and
// the count is reported in the next audited failure's details
// ("suppressed"). A flood of bad credentials for a known client id thus
// costs the trail (whose appends are serialised) a bounded number of rows.
const (
	failureAuditBurst  = 10
	failureAuditWindow = time.Minute
)

// failureSampler decides which failures of a client are audited.
type failureSampler struct {
	mu      sync.Mutex
	clients map[string]*sampleWindow // registered clients only: bounded
}

type sampleWindow struct {
	start      time.Time
	audited    int
	suppressed int
}

// admit reports whether a failure of client id at now is audited and, if
// so, how many were suppressed before it ("" for none).
func (f *failureSampler) admit(id string, now time.Time) (ok bool, suppressed string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clients == nil {
		f.clients = map[string]*sampleWindow{}
	}
	w := f.clients[id]
	if w == nil || now.Sub(w.start) >= failureAuditWindow || now.Before(w.start) {
		prev := 0
		if w != nil {
			prev = w.suppressed
		}
		w = &sampleWindow{start: now, suppressed: prev}
		f.clients[id] = w
	}
	if w.audited >= failureAuditBurst {
		w.suppressed++
		return false, ""
	}
	w.audited++
	if w.suppressed > 0 {
		suppressed, w.suppressed = strconv.Itoa(w.suppressed), 0
	}
	return true, suppressed
}
