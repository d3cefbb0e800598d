package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func keyTests() []test {
	return []test{
		{"ok/keys/create-list-newest-first", func(t *testing.T, s storage.Store) {
			got, err := s.ListKeys(t.Context())
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("empty store lists %d keys", len(got))
			}
			old := newKey("k-old", storage.KeyStateRetired, base.Add(-2*time.Hour))
			b := newKey("k-b", storage.KeyStateActive, base)
			a := newKey("k-a", storage.KeyStateNext, base) // same time as k-b: ties go by kid
			for _, k := range []*storage.SigningKey{old, b, a} {
				must(t, s.CreateKey(t.Context(), k))
			}
			got, err = s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*a, *b, *old})
		}},
		{"fail/keys/create-duplicate", func(t *testing.T, s storage.Store) {
			want := newKey("k1", storage.KeyStateActive, base)
			must(t, s.CreateKey(t.Context(), want))
			wantErr(t, s.CreateKey(t.Context(), newKey("k1", storage.KeyStateNext, base.Add(time.Hour))), storage.ErrAlreadyExists)
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*want})
		}},
		{"ok/keys/update-rotates", func(t *testing.T, s storage.Store) {
			must(t, s.CreateKey(t.Context(), newKey("k1", storage.KeyStateActive, base.Add(-time.Hour))))
			must(t, s.CreateKey(t.Context(), newKey("k2", storage.KeyStateNext, base)))
			now := base.Add(time.Hour)
			must(t, s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				equal(t, keys, []storage.SigningKey{
					*newKey("k2", storage.KeyStateNext, base),
					*newKey("k1", storage.KeyStateActive, base.Add(-time.Hour)),
				})
				keys[0].State, keys[0].ActivatedAt = storage.KeyStateActive, &now
				keys[1].State, keys[1].RetiredAt = storage.KeyStateRetired, &now
				return append(keys, *newKey("k3", storage.KeyStateNext, now)), nil
			}))
			k1 := newKey("k1", storage.KeyStateActive, base.Add(-time.Hour))
			k1.State, k1.RetiredAt = storage.KeyStateRetired, &now
			k2 := newKey("k2", storage.KeyStateNext, base)
			k2.State, k2.ActivatedAt = storage.KeyStateActive, &now
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*newKey("k3", storage.KeyStateNext, now), *k2, *k1})
		}},
		{"ok/keys/update-deletes-omitted", func(t *testing.T, s storage.Store) {
			for i, kid := range []string{"k1", "k2", "k3"} {
				must(t, s.CreateKey(t.Context(), newKey(kid, storage.KeyStateRetired, base.Add(time.Duration(i)*time.Hour))))
			}
			must(t, s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				return keys[1:2], nil // k2 only
			}))
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*newKey("k2", storage.KeyStateRetired, base.Add(time.Hour))})
			must(t, s.UpdateKeys(t.Context(), func([]storage.SigningKey) ([]storage.SigningKey, error) { return nil, nil }))
			got, err = s.ListKeys(t.Context())
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("%d keys left after returning none", len(got))
			}
		}},
		{"fail/keys/update-fn-error-leaves-keys", func(t *testing.T, s storage.Store) {
			want := newKey("k1", storage.KeyStateActive, base)
			must(t, s.CreateKey(t.Context(), want))
			err := s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				keys[0].State = storage.KeyStateRetired
				keys[0].PublicJWK[0] = 'X'
				return nil, errBoom
			})
			wantErr(t, err, errBoom)
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*want})
		}},
		{"fail/keys/update-duplicate-kid", func(t *testing.T, s storage.Store) {
			want := newKey("k1", storage.KeyStateActive, base)
			must(t, s.CreateKey(t.Context(), want))
			err := s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				return []storage.SigningKey{*newKey("k2", storage.KeyStateNext, base), *newKey("k2", storage.KeyStateActive, base)}, nil
			})
			if err == nil {
				t.Fatal("UpdateKeys accepted a repeated kid")
			}
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*want})
		}},
		{"ok/keys/update-serialized", func(t *testing.T, s storage.Store) {
			// Read-modify-write from many goroutines loses no update.
			const n = 6
			errs := Race(n, func(i int) error {
				return s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
					return append(keys, *newKey(fmt.Sprintf("k%d", i), storage.KeyStateNext, base)), nil
				})
			})
			for _, err := range errs {
				must(t, err)
			}
			got, err := s.ListKeys(t.Context())
			must(t, err)
			if len(got) != n {
				t.Fatalf("%d keys after %d concurrent appends", len(got), n)
			}
		}},
		{"ok/keys/lifecycle-timestamps-round-trip", func(t *testing.T, s storage.Store) {
			next := newKey("k-next", storage.KeyStateNext, base)
			next.PublishedAt = ptr(base.Add(time.Minute))
			revoked := newKey("k-revoked", storage.KeyStateRetired, base.Add(-time.Hour))
			revoked.State, revoked.RevokedAt = storage.KeyStateRevoked, ptr(base.Add(3*time.Hour))
			legacy := newKey("k-legacy", storage.KeyStateActive, base.Add(-2*time.Hour)) // no PublishedAt
			for _, k := range []*storage.SigningKey{next, revoked, legacy} {
				must(t, s.CreateKey(t.Context(), k))
			}
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*next, *revoked, *legacy})

			// UpdateKeys writes the new fields too, and can clear them.
			must(t, s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				keys[0].PublishedAt = nil
				keys[2].PublishedAt = ptr(base)
				keys[2].State, keys[2].RevokedAt = storage.KeyStateRevoked, ptr(base.Add(4*time.Hour))
				return keys, nil
			}))
			next.PublishedAt = nil
			legacy.PublishedAt = ptr(base)
			legacy.State, legacy.RevokedAt = storage.KeyStateRevoked, ptr(base.Add(4*time.Hour))
			got, err = s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*next, *revoked, *legacy})
		}},
		{"ok/keys/update-and-audit-share-a-transaction", func(t *testing.T, s storage.Store) {
			must(t, s.CreateKey(t.Context(), newKey("k1", storage.KeyStateActive, base)))
			rotate := func(ctx context.Context) error {
				if err := s.UpdateKeys(ctx, func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
					keys[0].State, keys[0].RetiredAt = storage.KeyStateRetired, ptr(base.Add(time.Hour))
					return append(keys, *newKey("k2", storage.KeyStateActive, base.Add(time.Hour))), nil
				}); err != nil {
					return err
				}
				return s.AppendAudit(ctx, &storage.AuditEvent{Time: base, Actor: "operator:root", Action: "key.rotate",
					Target: "k2", Outcome: storage.OutcomeSuccess})
			}
			// Rolled back: neither the keys nor the event change.
			err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
				if err := rotate(ctx); err != nil {
					return err
				}
				return errBoom
			})
			wantErr(t, err, errBoom)
			got, err := s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*newKey("k1", storage.KeyStateActive, base)})
			events, err := s.ListAudit(t.Context(), storage.AuditFilter{Action: "key.rotate"})
			must(t, err)
			if len(events) != 0 {
				t.Fatalf("%d audit events after rollback", len(events))
			}
			// Committed: both.
			must(t, storage.InTx(t.Context(), s, rotate))
			got, err = s.ListKeys(t.Context())
			must(t, err)
			if len(got) != 2 || got[0].KID != "k2" || got[1].State != storage.KeyStateRetired {
				t.Fatalf("keys after commit: %+v", got)
			}
			events, err = s.ListAudit(t.Context(), storage.AuditFilter{Action: "key.rotate"})
			must(t, err)
			if len(events) != 1 || events[0].Target != "k2" {
				t.Fatalf("audit events after commit: %+v", events)
			}
		}},
		{"ok/keys/copies", func(t *testing.T, s storage.Store) {
			in := newKey("k1", storage.KeyStateRetired, base)
			must(t, s.CreateKey(t.Context(), in))
			in.PublicJWK[0] = 'X'
			*in.RetiredAt = future
			got, err := s.ListKeys(t.Context())
			must(t, err)
			got[0].PrivateEnc[0] = 'X'
			*got[0].ActivatedAt = future
			var leaked []storage.SigningKey
			must(t, s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				leaked = keys
				return keys, nil
			}))
			leaked[0].PublicJWK[1] = 'X'
			got, err = s.ListKeys(t.Context())
			must(t, err)
			equal(t, got, []storage.SigningKey{*newKey("k1", storage.KeyStateRetired, base)})
		}},
	}
}
