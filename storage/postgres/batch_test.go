package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// TestCoalescedCreatesAnswerEachCallerAsAlone: token rows created at the
// same moment outside a transaction share statements and commits, yet each
// caller gets the answer its own statement would have given: its row
// written, ErrAlreadyExists for a signature taken (before, or by another row
// of the same batch), ErrNotFound for a client that does not exist (whose
// foreign key spoils a batch statement: the others are still written).
func TestCoalescedCreatesAnswerEachCallerAsAlone(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openStore(t, url+"&pool_max_conns=4") // one flusher: batches form
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.CreateClient(ctx, &storage.Client{ID: "c1", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	row := func(sig, client string) *storage.Request {
		return &storage.Request{Kind: storage.KindAccessToken, Signature: sig, RequestID: "g-" + sig, ClientID: client,
			Active: true, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Data: []byte(`{"x":1}`)}
	}
	if err := s.CreateRequest(ctx, row("taken", "c1")); err != nil {
		t.Fatal(err)
	}
	type call struct {
		r    *storage.Request
		want string // "ok", "exists", "notfound", "one-of" (a duplicate pair: exactly one ok)
	}
	var calls []call
	for i := range 150 {
		calls = append(calls, call{row(fmt.Sprintf("sig-%d", i), "c1"), "ok"})
	}
	for i := range 20 {
		sig := fmt.Sprintf("dup-%d", i)
		calls = append(calls, call{row(sig, "c1"), "one-of"}, call{row(sig, "c1"), "one-of"})
	}
	for i := range 20 {
		calls = append(calls, call{row(fmt.Sprintf("ghost-%d", i), "no-such-client"), "notfound"})
	}
	for range 10 {
		calls = append(calls, call{row("taken", "c1"), "exists"})
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.CreateRequest(ctx, c.r)
		}()
	}
	close(start)
	wg.Wait()
	okPerSig := map[string]int{}
	for i, c := range calls {
		err := errs[i]
		switch c.want {
		case "ok":
			if err != nil {
				t.Errorf("%s: %v, want written", c.r.Signature, err)
			}
		case "exists":
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("%s: %v, want ErrAlreadyExists", c.r.Signature, err)
			}
		case "notfound":
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", c.r.Signature, err)
			}
		case "one-of":
			switch {
			case err == nil:
				okPerSig[c.r.Signature]++
			case !errors.Is(err, storage.ErrAlreadyExists):
				t.Errorf("%s: %v, want written or ErrAlreadyExists", c.r.Signature, err)
			}
		}
	}
	for i := range 20 {
		if sig := fmt.Sprintf("dup-%d", i); okPerSig[sig] != 1 {
			t.Errorf("%s written %d times, want exactly once", sig, okPerSig[sig])
		}
	}
	var rows int
	if err := newPool(t, url).QueryRow(ctx, `SELECT count(*) FROM oauth2_requests`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if want := 1 + 150 + 20; rows != want {
		t.Fatalf("%d rows, want %d", rows, want)
	}
	for _, sig := range []string{"sig-0", "sig-149", "dup-7"} {
		got, err := s.GetRequest(ctx, storage.KindAccessToken, sig)
		if err != nil || got.ClientID != "c1" || string(got.Data) != `{"x":1}` || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("%s read back as %+v, %v", sig, got, err)
		}
	}
}
