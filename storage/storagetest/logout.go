package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

func newDelivery(clientID, subject string, due time.Time) *storage.LogoutDelivery {
	return &storage.LogoutDelivery{ClientID: clientID, Subject: subject, SessionID: "s1", NextAttemptAt: due, CreatedAt: base}
}

func logoutTests() []test {
	return []test{
		{"ok/logout/list-sessions-by-user", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			older, newer, other, expired := newSession("s1", "u1"), newSession("s2", "u1"), newSession("s3", "u2"), newSession("s4", "u1")
			newer.CreatedAt = base.Add(time.Minute)
			expired.ExpiresAt = past
			for _, bs := range []*storage.BrowserSession{older, newer, other, expired} {
				must(t, s.CreateBrowserSession(t.Context(), bs))
			}
			got, err := s.ListBrowserSessions(t.Context(), "u1")
			must(t, err)
			equal(t, got, []storage.BrowserSession{*newer, *older})
			got, err = s.ListBrowserSessions(t.Context(), "nobody")
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("sessions of an unknown user: %v", got)
			}
		}},
		{"ok/logout/session-clients", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c2")
			createClient(t, s, "c1")
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			must(t, s.CreateBrowserSession(t.Context(), newSession("s2", "u1")))
			must(t, s.AddSessionClient(t.Context(), "s1", "c2", base))
			must(t, s.AddSessionClient(t.Context(), "s1", "c1", base))
			must(t, s.AddSessionClient(t.Context(), "s1", "c1", base.Add(time.Hour))) // again: no-op
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err)
			equal(t, got, []string{"c1", "c2"})
			got, err = s.ListSessionClients(t.Context(), "s2")
			must(t, err)
			equal(t, got, []string(nil))
			// the rows go with their session and their client
			must(t, s.DeleteClient(t.Context(), "c2"))
			got, err = s.ListSessionClients(t.Context(), "s1")
			must(t, err)
			equal(t, got, []string{"c1"})
			must(t, s.DeleteBrowserSession(t.Context(), "s1"))
			got, err = s.ListSessionClients(t.Context(), "s1")
			must(t, err)
			equal(t, got, []string(nil))
		}},
		{"fail/logout/session-clients-unknown", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createClient(t, s, "c1")
			expired := newSession("s2", "u1")
			expired.ExpiresAt = past
			must(t, s.CreateBrowserSession(t.Context(), newSession("s1", "u1")))
			must(t, s.CreateBrowserSession(t.Context(), expired))
			wantErr(t, s.AddSessionClient(t.Context(), "ghost", "c1", base), storage.ErrNotFound)
			wantErr(t, s.AddSessionClient(t.Context(), "s2", "c1", base), storage.ErrNotFound)
			wantErr(t, s.AddSessionClient(t.Context(), "s1", "ghost", base), storage.ErrNotFound)
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err)
			equal(t, got, []string(nil))
		}},
		{"ok/logout/list-consents", func(t *testing.T, s storage.Store) {
			createUser(t, s, "u1", "alice")
			createUser(t, s, "u2", "bob")
			createClient(t, s, "c2")
			createClient(t, s, "c1")
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c2")))
			must(t, s.SaveConsent(t.Context(), newConsent("u1", "c1")))
			must(t, s.SaveConsent(t.Context(), newConsent("u2", "c1")))
			got, err := s.ListConsents(t.Context(), "u1")
			must(t, err)
			equal(t, got, []storage.Consent{*newConsent("u1", "c1"), *newConsent("u1", "c2")})
			got, err = s.ListConsents(t.Context(), "u3")
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("consents of an unknown user: %v", got)
			}
		}},
		{"ok/logout/revoke-by-subject-client", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createClient(t, s, "c2")
			mine := []*storage.Request{
				newRequest(storage.KindAuthorizeCode, "code1", "g1", "c1"),
				newRequest(storage.KindAccessToken, "at1", "g1", "c1"),
				newRequest(storage.KindRefreshToken, "rt1", "g1", "c1"),
				newRequest(storage.KindAccessToken, "at2", "g2", "c1"),
			}
			otherClient := newRequest(storage.KindAccessToken, "at3", "g3", "c2")
			otherSubject := newRequest(storage.KindAccessToken, "at4", "g4", "c1")
			otherSubject.Subject = "subject-2"
			pkce := newRequest(storage.KindPKCE, "pkce1", "g1", "c1")
			already := newRequest(storage.KindAccessToken, "at5", "g5", "c1")
			already.Active = false
			for _, r := range append(mine, otherClient, otherSubject, pkce, already) {
				createRequest(t, s, r)
			}
			n, err := s.RevokeRequestsBySubjectClient(t.Context(), "subject-1", "c1")
			must(t, err)
			if n != int64(len(mine)) {
				t.Fatalf("revoked %d rows, want %d", n, len(mine))
			}
			for _, r := range mine {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				wantErr(t, err, storage.ErrInactive)
			}
			for _, r := range []*storage.Request{otherClient, otherSubject, pkce} {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				must(t, err)
			}
			n, err = s.RevokeRequestsBySubjectClient(t.Context(), "subject-1", "c1")
			must(t, err)
			if n != 0 {
				t.Fatalf("second revocation deactivated %d rows", n)
			}
		}},
		{"ok/clients/revoke-client-requests", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createClient(t, s, "c2")
			machine := newRequest(storage.KindAccessToken, "cc1", "g9", "c1")
			machine.Subject = "" // client credentials
			otherSubject := newRequest(storage.KindRefreshToken, "rt4", "g4", "c1")
			otherSubject.Subject = "subject-2"
			mine := []*storage.Request{
				newRequest(storage.KindAuthorizeCode, "code1", "g1", "c1"),
				newRequest(storage.KindAccessToken, "at1", "g1", "c1"),
				newRequest(storage.KindRefreshToken, "rt1", "g1", "c1"),
				otherSubject, machine,
			}
			otherClient := newRequest(storage.KindAccessToken, "at3", "g3", "c2")
			pkce := newRequest(storage.KindPKCE, "pkce1", "g1", "c1")
			already := newRequest(storage.KindAccessToken, "at5", "g5", "c1")
			already.Active = false
			for _, r := range append(mine, otherClient, pkce, already) {
				createRequest(t, s, r)
			}
			n, err := s.RevokeClientRequests(t.Context(), "c1")
			must(t, err)
			if n != int64(len(mine)) {
				t.Fatalf("revoked %d rows, want %d", n, len(mine))
			}
			for _, r := range mine {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				wantErr(t, err, storage.ErrInactive)
			}
			for _, r := range []*storage.Request{otherClient, pkce} {
				_, err := s.GetRequest(t.Context(), r.Kind, r.Signature)
				must(t, err)
			}
			if n, err = s.RevokeClientRequests(t.Context(), "c1"); err != nil || n != 0 {
				t.Fatalf("second revocation: %d rows, %v", n, err)
			}
		}},
		{"ok/logout/outbox-claim-retry-complete", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			d1, d2, later := newDelivery("c1", "u1", past), newDelivery("c1", "u2", past), newDelivery("c1", "u3", future)
			for _, d := range []*storage.LogoutDelivery{d1, d2, later} {
				must(t, s.EnqueueLogoutDelivery(t.Context(), d))
			}
			if !(d1.ID > 0 && d2.ID > d1.ID && later.ID > d2.ID) {
				t.Fatalf("ids not increasing: %d %d %d", d1.ID, d2.ID, later.ID)
			}
			got, err := s.ClaimLogoutDeliveries(t.Context(), base, time.Minute, 10)
			must(t, err)
			w1, w2 := *d1, *d2
			w1.Attempts, w2.Attempts = 1, 1
			w1.NextAttemptAt, w2.NextAttemptAt = base.Add(time.Minute), base.Add(time.Minute)
			equal(t, got, []storage.LogoutDelivery{w1, w2})
			// claimed rows are hidden for the lease
			got, err = s.ClaimLogoutDeliveries(t.Context(), base.Add(59*time.Second), time.Minute, 10)
			must(t, err)
			equal(t, len(got), 0)
			must(t, s.RetryLogoutDelivery(t.Context(), d1.ID, base.Add(10*time.Second), "HTTP 500"))
			must(t, s.CompleteLogoutDelivery(t.Context(), d2.ID))
			got, err = s.ClaimLogoutDeliveries(t.Context(), base.Add(10*time.Second), time.Minute, 10)
			must(t, err)
			w1.Attempts, w1.NextAttemptAt, w1.LastError = 2, base.Add(70*time.Second), "HTTP 500"
			equal(t, got, []storage.LogoutDelivery{w1})
			all, err := s.ListLogoutDeliveries(t.Context())
			must(t, err)
			equal(t, all, []storage.LogoutDelivery{w1, *later})
			wantErr(t, s.CompleteLogoutDelivery(t.Context(), d2.ID), storage.ErrNotFound)
			wantErr(t, s.RetryLogoutDelivery(t.Context(), d2.ID, base, "x"), storage.ErrNotFound)
		}},
		{"ok/logout/outbox-limit-and-client-delete", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			createClient(t, s, "c2")
			for i := range 3 {
				must(t, s.EnqueueLogoutDelivery(t.Context(), newDelivery("c1", "u", past.Add(time.Duration(i)*time.Second))))
			}
			gone := newDelivery("c2", "u", past)
			must(t, s.EnqueueLogoutDelivery(t.Context(), gone))
			must(t, s.DeleteClient(t.Context(), "c2"))
			got, err := s.ClaimLogoutDeliveries(t.Context(), base, time.Minute, 2)
			must(t, err)
			if len(got) != 2 || got[0].ClientID != "c1" || got[1].ClientID != "c1" {
				t.Fatalf("claimed %+v, want the two most overdue of c1", got)
			}
			all, err := s.ListLogoutDeliveries(t.Context())
			must(t, err)
			equal(t, len(all), 3)
		}},
		{"fail/logout/outbox-unknown-client", func(t *testing.T, s storage.Store) {
			wantErr(t, s.EnqueueLogoutDelivery(t.Context(), newDelivery("ghost", "u", past)), storage.ErrNotFound)
			all, err := s.ListLogoutDeliveries(t.Context())
			must(t, err)
			equal(t, len(all), 0)
		}},
		{"ok/logout/outbox-rolls-back-with-tx", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			err := storage.InTx(t.Context(), s, func(ctx context.Context) error {
				must(t, s.EnqueueLogoutDelivery(ctx, newDelivery("c1", "u", past)))
				return errBoom
			})
			wantErr(t, err, errBoom)
			all, err := s.ListLogoutDeliveries(t.Context())
			must(t, err)
			equal(t, len(all), 0)
		}},
		{"ok/logout/outbox-concurrent-claims-never-share", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			const rows, claimers = 20, 8
			for range rows {
				must(t, s.EnqueueLogoutDelivery(t.Context(), newDelivery("c1", "u", past)))
			}
			var mu sync.Mutex
			seen := map[int64]int{}
			errs := Race(claimers, func(int) error {
				got, err := s.ClaimLogoutDeliveries(t.Context(), base, time.Minute, 5)
				mu.Lock()
				defer mu.Unlock()
				for _, d := range got {
					seen[d.ID]++
				}
				return err
			})
			for _, err := range errs {
				must(t, err)
			}
			// SKIP LOCKED may leave rows to a later claim; none is ever shared
			rest, err := s.ClaimLogoutDeliveries(t.Context(), base, time.Minute, rows)
			must(t, err)
			for _, d := range rest {
				seen[d.ID]++
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("delivery %d claimed %d times", id, n)
				}
			}
			if len(seen) != rows {
				t.Fatalf("%d deliveries claimed, want all %d", len(seen), rows)
			}
		}},
	}
}
