// Package audit makes the audit trail something an auditor can trust
// (PCI DSS v4 req. 10.3, PSD2 RTS art. 29): it verifies the hash chain the
// stores keep (storage.AuditHash over storage.AppendAuditEncoding), prunes
// old events behind an authenticated checkpoint, and exports the trail for a
// SIEM. It holds no SQL: everything goes through storage.Audit.
//
// The chain: every event stores prev_hash and hash = SHA-256(prev_hash ||
// canonical encoding), where prev_hash is the previous event's hash (32 zero
// bytes for the first). Changing, deleting or reordering a stored event
// breaks the chain at that event; Verify names the first such event.
//
// Checkpoints: a prune deletes the oldest events and, in the same
// transaction, records the hash of the newest deleted event (the cut) with
// an HMAC-SHA256 under a key derived from STRONGROOM_SECRET (KeyPurpose).
// Verification then starts from the newest checkpoint's hash; a checkpoint
// whose MAC does not match (forged, or altered to hide a rewrite of the
// events before it) fails verification. HMAC rather than a signature by the
// server's signing keys: those rotate and are deleted after retirement, so a
// checkpoint signed years ago could no longer be checked, and a verifier
// would need the key history; the system secret lives as long as the
// deployment and the CLI already holds it. The cost: only holders of
// STRONGROOM_SECRET can check (and could forge) a checkpoint.
//
// What the chain does not prove: an attacker who can write to the database
// can recompute every hash after the event they change (SHA-256 is
// unkeyed), and one who also holds STRONGROOM_SECRET can forge checkpoints.
// Exporting the trail and Verify's head (id and hash) to a system they do
// not control (a SIEM, a WORM bucket) and checking it later with
// VerifyOptions.Anchors closes that gap.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// KeyPurpose is the purpose under which the checkpoint MAC key is derived
// from the system secret (authz.DeriveKey(secret, KeyPurpose)).
const KeyPurpose = "audit-checkpoint"

// ActionPrune is the audit action of a prune (written after the cut, in the
// prune's transaction).
const ActionPrune = "audit.prune"

// Store is what the trail needs: the audit rows and transactions.
type Store interface {
	storage.Audit
	storage.Transactor
}

// Trail verifies, prunes and exports the audit trail.
type Trail struct {
	store Store
	key   []byte
	now   func() time.Time
}

// New returns the trail over store. key authenticates checkpoints (32
// bytes derived from STRONGROOM_SECRET with KeyPurpose); now is the clock
// of prunes (time.Now when nil).
func New(store Store, key []byte, now func() time.Time) (*Trail, error) {
	if len(key) < 32 {
		return nil, errors.New("audit: the checkpoint key must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Trail{store: store, key: key, now: now}, nil
}

// ---------------------------------------------------------------- checkpoints

const checkpointTag = "strongroom-audit-checkpoint-v1"

// checkpointMAC is HMAC-SHA256(key, tag || cut_id || cut_hash || cut_time
// || created_at), integers 8-byte big-endian, times in Unix microseconds.
// The informational Pruned count is not covered.
func (t *Trail) checkpointMAC(cp *storage.AuditCheckpoint) []byte {
	m := hmac.New(sha256.New, t.key)
	b := []byte(checkpointTag)
	b = binary.BigEndian.AppendUint64(b, uint64(cp.CutID))        // #nosec G115 -- an event id is positive (a sequence); the bits are MACed as they are
	b = binary.BigEndian.AppendUint32(b, uint32(len(cp.CutHash))) // #nosec G115 -- a SHA-256 hash is 32 bytes
	b = append(b, cp.CutHash...)
	b = binary.BigEndian.AppendUint64(b, uint64(cp.CutTime.UTC().UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(cp.CreatedAt.UTC().UnixMicro()))
	m.Write(b)
	return m.Sum(nil)
}

// ---------------------------------------------------------------- verify

// Problem kinds.
const (
	ProblemChanged    = "changed"    // an event's content does not match its hash
	ProblemBroken     = "broken"     // an event does not follow the one before it (deleted, reordered, rewritten)
	ProblemTruncated  = "truncated"  // the newest events are missing (the head names a later event)
	ProblemCheckpoint = "checkpoint" // a checkpoint's MAC does not match (forged or altered)
	ProblemAnchor     = "anchor"     // an event no longer has the hash recorded outside the database
)

// Problem is the first inconsistency Verify found.
type Problem struct {
	Kind string `json:"kind"`
	// EventID is the event at which the chain fails (0 for a checkpoint).
	EventID      int64  `json:"event_id,omitempty"`
	CheckpointID int64  `json:"checkpoint_id,omitempty"`
	Message      string `json:"message"`
}

func (p *Problem) Error() string { return p.Message }

// Anchor is an event's hash recorded outside the database (a previous
// Verify's head, kept in a SIEM or a ticket).
type Anchor struct {
	EventID int64
	Hash    []byte
}

// ParseAnchor reads an anchor written as "<event id>:<hex hash>".
func ParseAnchor(s string) (Anchor, error) {
	id, h, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n <= 0 {
		return Anchor{}, fmt.Errorf("anchor %q: want <event id>:<hex sha-256>", s)
	}
	hash, err := hex.DecodeString(h)
	if err != nil || len(hash) != storage.AuditHashSize {
		return Anchor{}, fmt.Errorf("anchor %q: the hash must be 64 hex digits", s)
	}
	return Anchor{EventID: n, Hash: hash}, nil
}

// String is the anchor as ParseAnchor reads it.
func (a Anchor) String() string { return fmt.Sprintf("%d:%x", a.EventID, a.Hash) }

// VerifyOptions adds checks to Verify.
type VerifyOptions struct {
	// Anchors must still be in the chain (unless pruned).
	Anchors []Anchor
}

// Report is the outcome of Verify. Problem is nil when the trail is intact.
type Report struct {
	Events      int64                    `json:"events"`            // events checked
	FirstID     int64                    `json:"first_id"`          // oldest event checked (0: none)
	Head        Anchor                   `json:"-"`                 // the chain's end: record it outside the database
	HeadText    string                   `json:"head"`              // Head as "<id>:<hex>"
	Checkpoints int                      `json:"checkpoints"`       // checkpoints whose MAC was checked
	Start       *storage.AuditCheckpoint `json:"-"`                 // the newest checkpoint, where the walk starts
	StartCut    int64                    `json:"start_after"`       // Start.CutID (0: from the genesis)
	Problem     *Problem                 `json:"problem,omitempty"` // the first inconsistency
}

// Verify walks the whole trail in id order, in constant memory, and
// reports the first changed, deleted or reordered event, a forged
// checkpoint or a missing tail. The returned error is for failures to
// read; a broken trail is a Report with a Problem.
func (t *Trail) Verify(ctx context.Context, opts VerifyOptions) (Report, error) {
	var r Report
	cps, err := t.store.ListAuditCheckpoints(ctx)
	if err != nil {
		return r, fmt.Errorf("audit: verify: %w", err)
	}
	for i := range cps {
		cp := &cps[i]
		if !hmac.Equal(cp.MAC, t.checkpointMAC(cp)) {
			r.Problem = &Problem{Kind: ProblemCheckpoint, CheckpointID: cp.ID, Message: fmt.Sprintf(
				"checkpoint %d (cut at event %d): forged or altered: its MAC does not match (or STRONGROOM_SECRET is not the one that wrote it)",
				cp.ID, cp.CutID)}
			return r, nil
		}
		r.Checkpoints++
	}
	head, err := t.store.AuditHead(ctx)
	if err != nil {
		return r, fmt.Errorf("audit: verify: %w", err)
	}
	r.Head = Anchor{EventID: head.LastID, Hash: head.LastHash}
	r.HeadText = r.Head.String()

	prev, prevID, prevName := storage.AuditGenesisHash(), int64(0), "the start of the trail"
	if len(cps) > 0 {
		r.Start = &cps[len(cps)-1]
		r.StartCut = r.Start.CutID
		prev, prevID = r.Start.CutHash, r.Start.CutID
		prevName = fmt.Sprintf("checkpoint %d (cut at event %d)", r.Start.ID, r.Start.CutID)
	}
	anchors := map[int64][]byte{}
	for _, a := range opts.Anchors {
		anchors[a.EventID] = a.Hash
	}
	errStop := errors.New("stop")
	err = t.store.WalkAudit(ctx, storage.AuditWalk{ThroughID: head.LastID}, func(e storage.AuditEvent) error {
		switch {
		case e.ID <= prevID:
			r.Problem = &Problem{Kind: ProblemBroken, EventID: e.ID, Message: fmt.Sprintf(
				"event %d: present although %s covers it (re-inserted after a prune?)", e.ID, prevName)}
		case !bytes.Equal(e.PrevHash, prev):
			msg := fmt.Sprintf("event %d: does not follow %s: ", e.ID, prevName)
			if e.ID > prevID+1 {
				msg += fmt.Sprintf("event(s) %d to %d before it were deleted, or events were reordered or rewritten", prevID+1, e.ID-1)
			} else {
				msg += "the event before it was changed (and its hash recomputed) or events were reordered"
			}
			r.Problem = &Problem{Kind: ProblemBroken, EventID: e.ID, Message: msg}
		case !bytes.Equal(storage.AuditHash(e.PrevHash, &e), e.Hash):
			r.Problem = &Problem{Kind: ProblemChanged, EventID: e.ID, Message: fmt.Sprintf(
				"event %d: changed: its content (%s by %s at %s) no longer matches its hash",
				e.ID, e.Action, e.Actor, e.Time.Format(time.RFC3339))}
		}
		if want, ok := anchors[e.ID]; ok && r.Problem == nil && !bytes.Equal(want, e.Hash) {
			r.Problem = &Problem{Kind: ProblemAnchor, EventID: e.ID, Message: fmt.Sprintf(
				"event %d: its hash %x is not the anchor's %x: the trail up to it was rewritten", e.ID, e.Hash, want)}
		}
		if r.Problem != nil {
			return errStop
		}
		delete(anchors, e.ID)
		if r.FirstID == 0 {
			r.FirstID = e.ID
		}
		r.Events++
		prev, prevID, prevName = e.Hash, e.ID, fmt.Sprintf("event %d", e.ID)
		return nil
	})
	if r.Problem != nil {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("audit: verify: %w", err)
	}
	if prevID != head.LastID || !bytes.Equal(prev, head.LastHash) {
		msg := fmt.Sprintf("the chain head names event %d but the trail ends at %s: ", head.LastID, prevName)
		if prevID < head.LastID {
			msg += fmt.Sprintf("event(s) %d to %d were deleted", prevID+1, head.LastID)
		} else {
			msg += "the last event was changed or the head was altered"
		}
		r.Problem = &Problem{Kind: ProblemTruncated, EventID: head.LastID, Message: msg}
		return r, nil
	}
	for id, h := range anchors {
		if r.Start == nil || id > r.Start.CutID {
			r.Problem = &Problem{Kind: ProblemAnchor, EventID: id, Message: fmt.Sprintf(
				"event %d (anchor %x) is missing from the trail", id, h)}
			return r, nil
		}
	}
	return r, nil
}

// ---------------------------------------------------------------- prune

// PruneResult describes a prune.
type PruneResult struct {
	Pruned     int64                    `json:"pruned"` // events deleted
	Checkpoint *storage.AuditCheckpoint `json:"-"`      // nil when nothing was old enough
	CutID      int64                    `json:"cut_id,omitempty"`
}

// ErrBrokenTrail is returned by Prune when the trail fails verification:
// pruning would sign a checkpoint over tampered events and destroy the
// evidence.
var ErrBrokenTrail = errors.New("audit: the trail fails verification")

// Prune deletes the events older than retention (the oldest run of events
// all older than now - retention) and writes a checkpoint at the cut and an
// audit.prune event by actor, in one transaction. It verifies the trail
// first and refuses (ErrBrokenTrail) to prune a broken one.
func (t *Trail) Prune(ctx context.Context, retention time.Duration, actor storage.AuditEvent) (PruneResult, error) {
	var res PruneResult
	if retention <= 0 {
		return res, errors.New("audit: prune: the retention must be positive")
	}
	rep, err := t.Verify(ctx, VerifyOptions{})
	if err != nil {
		return res, err
	}
	if rep.Problem != nil {
		return res, fmt.Errorf("%w: %s; not pruning", ErrBrokenTrail, rep.Problem.Message)
	}
	now := t.now().UTC()
	cutoff := now.Add(-retention)
	err = storage.InTx(ctx, t.store, func(ctx context.Context) error {
		cut, err := t.store.AuditCutBefore(ctx, cutoff)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		cp := &storage.AuditCheckpoint{CutID: cut.ID, CutHash: cut.Hash, CutTime: cut.Time,
			CreatedAt: now.Truncate(time.Microsecond)}
		if rep.Start != nil {
			cp.Pruned = cut.ID - rep.Start.CutID
		} else {
			cp.Pruned = cut.ID
		}
		cp.MAC = t.checkpointMAC(cp)
		n, err := t.store.PruneAudit(ctx, cp)
		if err != nil {
			return err
		}
		res = PruneResult{Pruned: n, Checkpoint: cp, CutID: cp.CutID}
		ev := actor
		ev.Time, ev.Action, ev.Target, ev.Outcome = now, ActionPrune, strconv.FormatInt(cp.CutID, 10), storage.OutcomeSuccess
		ev.Details = map[string]string{"pruned": strconv.FormatInt(n, 10), "retention": retention.String(),
			"cut_time": cut.Time.Format(time.RFC3339), "checkpoint": strconv.FormatInt(cp.ID, 10)}
		for k, v := range actor.Details {
			ev.Details[k] = v
		}
		return t.store.AppendAudit(ctx, &ev)
	})
	if err != nil {
		return PruneResult{}, fmt.Errorf("audit: prune: %w", err)
	}
	return res, nil
}

// ---------------------------------------------------------------- export

// ExportedEvent is one line of the JSON Lines export: the event as stored,
// hashes in hex, so a SIEM can re-check the chain.
type ExportedEvent struct {
	ID        int64             `json:"id"`
	Time      time.Time         `json:"time"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Target    string            `json:"target,omitempty"`
	Outcome   string            `json:"outcome"`
	SourceIP  string            `json:"source_ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	PrevHash  string            `json:"prev_hash"`
	Hash      string            `json:"hash"`
}

// Export writes the events in [since, until) (zero: unbounded) after
// afterID to w as JSON Lines, oldest first, streaming, and returns how many
// it wrote.
func Export(ctx context.Context, store storage.Audit, w io.Writer, afterID int64, since, until time.Time) (int64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n int64
	err := store.WalkAudit(ctx, storage.AuditWalk{AfterID: afterID, Since: since, Until: until}, func(e storage.AuditEvent) error {
		n++
		return enc.Encode(ExportedEvent{
			ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome,
			SourceIP: e.SourceIP, UserAgent: e.UserAgent, Details: e.Details,
			PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash),
		})
	})
	if err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}
