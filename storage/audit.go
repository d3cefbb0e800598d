package storage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditEvent is one security-relevant event: a login attempt, a failed client
// authentication, an operator's change. It never carries a secret, password,
// private key or whole token.
//
// Every event is chained to the one before it: Hash = AuditHash(PrevHash,
// event), and PrevHash is the Hash of the previous event in ID order (32 zero
// bytes before the first event, or the hash at the cut of the newest prune
// checkpoint). The store sets ID, PrevHash and Hash in AppendAudit.
type AuditEvent struct {
	ID        int64     // assigned by the store, increasing in chain order
	Time      time.Time // set by the caller; stored in UTC, truncated to the microsecond
	Actor     string    // who: "user:<id>", "client:<id>", "operator:<name>", "anonymous"
	Action    string    // what, dotted: "login.password", "client.create", "key.rotate"
	Target    string    // what it was done to: a user id, client id, kid
	Outcome   string    // OutcomeSuccess or OutcomeFailure
	SourceIP  string
	UserAgent string
	Details   map[string]string // extra context; never secrets
	PrevHash  []byte            // the previous event's Hash (set by the store)
	Hash      []byte            // AuditHash(PrevHash, this event) (set by the store)
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Action  string
	Actor   string
	Target  string
	Outcome string
	// Client matches events by or about a client: actor "client:<id>",
	// target <id>, or details client_id=<id>.
	Client string
	// Subject matches events by or about a user: actor "user:<id>", target
	// <id>, or details subject=<id>.
	Subject string
	Since   time.Time // time >= Since
	Until   time.Time // time < Until
	Limit   int       // default 100
}

// AuditHead is the end of the chain: the newest event's id and hash (0 and
// AuditGenesisHash before the first event). Pruning does not move it.
type AuditHead struct {
	LastID   int64
	LastHash []byte
}

// AuditCheckpoint vouches for the chain at a cut: the event with id CutID had
// hash CutHash. A prune deletes every event up to the cut and writes a
// checkpoint in the same transaction, so the chain can still be verified
// from the cut on. MAC authenticates the other fields (see authz/audit); the
// store only keeps it.
type AuditCheckpoint struct {
	ID        int64 // assigned by the store
	CutID     int64
	CutHash   []byte
	CutTime   time.Time // time of the event at the cut
	Pruned    int64     // events deleted with this checkpoint
	CreatedAt time.Time // stored in UTC, truncated to the microsecond
	MAC       []byte
}

// Audit is the audit trail. Writers call AppendAudit with the context of the
// transaction that makes the change, so the event and the change commit or
// roll back together.
type Audit interface {
	// AppendAudit normalises e (NormalizeAuditEvent), chains it to the
	// current head and records it, setting e.ID (the head's id + 1: ids
	// have no gaps), e.PrevHash and e.Hash. Concurrent appends are
	// serialised on the chain head until the appending transaction ends.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns matching events, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// WalkAudit calls fn with every event whose id is in (afterID, throughID]
	// and, when set, whose time is in [since, until), in id order. It reads
	// in batches, so memory stays constant however long the trail; fn may
	// stop the walk by returning an error, which is returned as is.
	WalkAudit(ctx context.Context, w AuditWalk, fn func(AuditEvent) error) error
	// AuditHead returns the end of the chain.
	AuditHead(ctx context.Context) (AuditHead, error)
	// AuditCutBefore returns where a prune for events older than before
	// cuts the chain: the newest event of the longest run of events, from
	// the oldest on, whose times are all before before (ErrNotFound when the
	// oldest event is not). An event newer than before is never cut, even
	// if a clock gave an earlier event a later time.
	AuditCutBefore(ctx context.Context, before time.Time) (AuditEvent, error)
	// PruneAudit deletes every event with id <= cp.CutID and records cp,
	// atomically; it returns the number of events deleted and sets cp.ID.
	PruneAudit(ctx context.Context, cp *AuditCheckpoint) (int64, error)
	// ListAuditCheckpoints returns every checkpoint, oldest cut first.
	ListAuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error)
}

// AuditWalk bounds WalkAudit. Zero fields do not bound.
type AuditWalk struct {
	AfterID   int64
	ThroughID int64
	Since     time.Time
	Until     time.Time
}

// AuditWalkBatch is how many events WalkAudit reads at a time.
const AuditWalkBatch = 1000

// ---------------------------------------------------------------- hash chain

// AuditHashSize is the size of an event hash (SHA-256).
const AuditHashSize = sha256.Size

// auditEncodingTag starts every encoded event, so a hash of this encoding
// can never be confused with a hash of anything else.
const auditEncodingTag = "strongroom-audit-event-v1"

// AuditGenesisHash is PrevHash of the first event: 32 zero bytes.
func AuditGenesisHash() []byte { return make([]byte, AuditHashSize) }

// NormalizeAuditEvent makes e storable exactly as it will be read back, so
// the hash computed before the write matches the row: Time in UTC truncated
// to the microsecond (PostgreSQL's precision), and every string valid UTF-8
// without NUL (invalid bytes and NUL become U+FFFD; PostgreSQL text refuses
// both, and a client-controlled user agent must not make auditing fail).
// Empty details become nil.
func NormalizeAuditEvent(e *AuditEvent) {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	for _, p := range []*string{&e.Actor, &e.Action, &e.Target, &e.Outcome, &e.SourceIP, &e.UserAgent} {
		*p = cleanText(*p)
	}
	if len(e.Details) == 0 {
		e.Details = nil
		return
	}
	d := make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		d[cleanText(k)] = cleanText(v)
	}
	e.Details = d
}

func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AppendAuditEncoding appends the canonical encoding of e to b and returns
// the result. The encoding (version 1) is, in order:
//
//	the ASCII tag "strongroom-audit-event-v1"
//	ID                      8 bytes, big-endian two's complement
//	Time                    8 bytes, big-endian: Unix time in microseconds (UTC)
//	Actor, Action, Target, Outcome, SourceIP, UserAgent
//	                        each a field: 4-byte big-endian length, then the UTF-8 bytes
//	len(Details)            4 bytes, big-endian
//	each detail, keys in bytewise ascending order: key field, value field
//
// Every variable-length part is length-prefixed, so no two different events
// encode alike. PrevHash and Hash are not part of it. Migration
// 0014_audit_chain.sql computes the same encoding in SQL for events written
// before the chain existed.
func AppendAuditEncoding(b []byte, e *AuditEvent) []byte {
	b = append(b, auditEncodingTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.ID)) // #nosec G115 -- an event id is positive (a sequence); the bits are hashed as they are
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixMicro()))
	for _, s := range []string{e.Actor, e.Action, e.Target, e.Outcome, e.SourceIP, e.UserAgent} {
		b = appendField(b, s)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Details))) // #nosec G115 -- an event carries a handful of details, never 2^32
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go compares strings bytewise
	for _, k := range keys {
		b = appendField(b, k)
		b = appendField(b, e.Details[k])
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s))) // #nosec G115 -- fields are capped far below 4 GiB (request and detail size limits)
	return append(b, s...)
}

// AuditHash returns SHA-256(prev || AppendAuditEncoding(e)): the hash that
// chains e to the event before it.
func AuditHash(prev []byte, e *AuditEvent) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(AppendAuditEncoding(make([]byte, 0, 256), e))
	return h.Sum(nil)
}
