package storage_test

import (
	"bytes"
	"maps"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// FuzzAuditEncodingIsInjective: two normalised events encode alike only if
// they are equal, so a changed field always changes the hash; normalising
// twice changes nothing (what the store hashes is what it stores and reads
// back).
func FuzzAuditEncodingIsInjective(f *testing.F) {
	f.Add(int64(1), int64(0), "user:u1", "login.password", "u1", "success", "192.0.2.1", "Mozilla/5.0", "reason", "bad", "",
		int64(1), int64(0), "user:u1", "login.password", "u1", "success", "192.0.2.1", "Mozilla/5.0", "reason", "bad", "x")
	f.Add(int64(7), int64(1700000000000000), "a", "bc", "", "", "", "", "k", "v", "",
		int64(7), int64(1700000000000000), "ab", "c", "", "", "", "", "k", "v", "") // shifted boundary
	f.Add(int64(2), int64(5), "x", "y", "z", "success", "", "", "k\x00", "v\xff", "",
		int64(2), int64(5), "x", "y", "z", "success", "", "", "k\ufffd", "v\ufffd", "")
	f.Add(int64(3), int64(-1), "", "", "", "", "", "", "", "", "",
		int64(3), int64(-1), "", "", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T,
		id1, us1 int64, actor1, action1, target1, outcome1, ip1, ua1, k1, v1, extra1 string,
		id2, us2 int64, actor2, action2, target2, outcome2, ip2, ua2, k2, v2, extra2 string,
	) {
		mk := func(id, us int64, actor, action, target, outcome, ip, ua, k, v, extra string) *storage.AuditEvent {
			e := &storage.AuditEvent{ID: id, Time: time.UnixMicro(us), Actor: actor, Action: action, Target: target,
				Outcome: outcome, SourceIP: ip, UserAgent: ua, Details: map[string]string{k: v}}
			if extra != "" {
				e.Details[extra+"-extra"] = extra
			}
			storage.NormalizeAuditEvent(e)
			return e
		}
		a := mk(id1, us1, actor1, action1, target1, outcome1, ip1, ua1, k1, v1, extra1)
		b := mk(id2, us2, actor2, action2, target2, outcome2, ip2, ua2, k2, v2, extra2)
		again := *a
		again.Details = maps.Clone(a.Details)
		storage.NormalizeAuditEvent(&again)
		if !bytes.Equal(storage.AppendAuditEncoding(nil, &again), storage.AppendAuditEncoding(nil, a)) {
			t.Fatal("normalising twice changed the encoding")
		}
		same := a.ID == b.ID && a.Time.Equal(b.Time) && a.Actor == b.Actor && a.Action == b.Action && a.Target == b.Target &&
			a.Outcome == b.Outcome && a.SourceIP == b.SourceIP && a.UserAgent == b.UserAgent && maps.Equal(a.Details, b.Details)
		encEqual := bytes.Equal(storage.AppendAuditEncoding(nil, a), storage.AppendAuditEncoding(nil, b))
		if encEqual != same {
			t.Fatalf("events equal %v but encodings equal %v:\n%+v\n%+v", same, encEqual, a, b)
		}
		prev := storage.AuditGenesisHash()
		if same != bytes.Equal(storage.AuditHash(prev, a), storage.AuditHash(prev, b)) {
			t.Fatalf("hashes disagree with equality: %+v %+v", a, b)
		}
	})
}
