package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func revokedGrantTests() []test {
	return []test{
		{"ok/revoked-grants/revoke-list-check", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: future}))
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "g2", ClientID: "c2", ExpiresAt: future.Add(time.Hour)}))
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "expired", ClientID: "c1", ExpiresAt: past}))
			got, err := s.ListRevokedGrants(ctx)
			must(t, err)
			slices.SortFunc(got, func(a, b storage.RevokedGrant) int { return compareStrings(a.GrantID, b.GrantID) })
			equal(t, got, []storage.RevokedGrant{
				{GrantID: "g1", ClientID: "c1", ExpiresAt: future},
				{GrantID: "g2", ClientID: "c2", ExpiresAt: future.Add(time.Hour)},
			})
			for id, want := range map[string]bool{"g1": true, "g2": true, "expired": false, "unknown": false} {
				revoked, err := s.IsGrantRevoked(ctx, id)
				must(t, err)
				if revoked != want {
					t.Fatalf("IsGrantRevoked(%q) = %v, want %v", id, revoked, want)
				}
			}
		}},
		{"ok/revoked-grants/idempotent-keeps-later-expiry", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: future}))
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: past}))
			got, err := s.ListRevokedGrants(ctx)
			must(t, err)
			equal(t, got, []storage.RevokedGrant{{GrantID: "g1", ClientID: "c1", ExpiresAt: future}})
		}},
		{"ok/revoked-grants/delete-expired", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "old", ClientID: "c1", ExpiresAt: past}))
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "live", ClientID: "c1", ExpiresAt: future}))
			n, err := s.DeleteExpiredRevokedGrants(ctx, base)
			must(t, err)
			if n != 1 {
				t.Fatalf("deleted %d expired entries, want 1", n)
			}
			n, err = s.DeleteExpiredRevokedGrants(ctx, base)
			must(t, err)
			if n != 0 {
				t.Fatalf("deleted %d entries on the second pass, want 0", n)
			}
			revoked, err := s.IsGrantRevoked(ctx, "live")
			must(t, err)
			if !revoked {
				t.Fatal("the unexpired entry was deleted")
			}
		}},
		{"ok/revoked-grants/notify", func(t *testing.T, s storage.Store) {
			ch, _ := subscribe(t, s, storage.TopicRevokedGrants)
			g := storage.RevokedGrant{GrantID: "g1", ClientID: "c1", ExpiresAt: future}
			must(t, s.RevokeGrant(t.Context(), g))
			waitFor(t, ch, g.Payload())
			id, exp, ok := storage.ParseRevokedGrantPayload(g.Payload())
			if !ok || id != "g1" || !exp.Equal(future) {
				t.Fatalf("payload %q parsed as %q %v %v", g.Payload(), id, exp, ok)
			}
		}},
		{"ok/revoked-grants/rollback-publishes-nothing", func(t *testing.T, s storage.Store) {
			ch, _ := subscribe(t, s, storage.TopicRevokedGrants)
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.RevokeGrant(ctx, storage.RevokedGrant{GrantID: "rolled-back", ClientID: "c1", ExpiresAt: future}))
			must(t, s.RollbackTx(ctx))
			committed := storage.RevokedGrant{GrantID: "committed", ClientID: "c1", ExpiresAt: future}
			must(t, s.RevokeGrant(t.Context(), committed))
			if before := waitFor(t, ch, committed.Payload()); len(before) != 0 {
				t.Fatalf("notifications of a rolled back revocation: %q", before)
			}
			revoked, err := s.IsGrantRevoked(t.Context(), "rolled-back")
			must(t, err)
			if revoked {
				t.Fatal("a rolled back revocation is recorded")
			}
		}},
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
