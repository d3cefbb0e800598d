package keys

import (
	"context"
	"slices"
	"sync"

	"github.com/strongroom/strongroom/storage"
)

// fakeStore is a minimal in-memory storage.Keys and storage.Notifier for the
// tests of this package. UpdateKeys is serialized like the real stores.
type fakeStore struct {
	mu   sync.Mutex
	keys []storage.SigningKey // newest first

	// listBarrier, when set, makes ListKeys wait until that many callers
	// have listed, so concurrent EnsureActive calls all see an empty store.
	listBarrier *barrier

	subsMu sync.Mutex
	subs   map[string][]func(string)
}

var (
	_ storage.Keys     = (*fakeStore)(nil)
	_ storage.Notifier = (*fakeStore)(nil)
)

func newFakeStore() *fakeStore { return &fakeStore{subs: map[string][]func(string){}} }

func (f *fakeStore) CreateKey(_ context.Context, k *storage.SigningKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.keys {
		if e.KID == k.KID {
			return storage.ErrAlreadyExists
		}
	}
	f.keys = append([]storage.SigningKey{cloneKey(*k)}, f.keys...)
	return nil
}

func (f *fakeStore) ListKeys(context.Context) ([]storage.SigningKey, error) {
	if f.listBarrier != nil {
		f.listBarrier.wait()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]storage.SigningKey, len(f.keys))
	for i, k := range f.keys {
		out[i] = cloneKey(k)
	}
	return out, nil
}

func (f *fakeStore) UpdateKeys(ctx context.Context, fn func([]storage.SigningKey) ([]storage.SigningKey, error)) error {
	f.mu.Lock()
	in := make([]storage.SigningKey, len(f.keys))
	for i, k := range f.keys {
		in[i] = cloneKey(k)
	}
	out, err := fn(in)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	next := make([]storage.SigningKey, len(out))
	for i, k := range out {
		next[i] = cloneKey(k)
	}
	slices.SortStableFunc(next, func(a, b storage.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	f.keys = next
	f.mu.Unlock()
	f.publish(storage.TopicKeys, "")
	return nil
}

// set replaces the key set behind the manager's back and notifies.
func (f *fakeStore) set(keys ...storage.SigningKey) {
	_ = f.UpdateKeys(context.Background(), func([]storage.SigningKey) ([]storage.SigningKey, error) { return keys, nil })
}

func (f *fakeStore) Subscribe(ctx context.Context, topic string, fn func(string)) error {
	f.subsMu.Lock()
	defer f.subsMu.Unlock()
	f.subs[topic] = append(f.subs[topic], func(p string) {
		if ctx.Err() == nil {
			fn(p)
		}
	})
	return nil
}

func (f *fakeStore) publish(topic, payload string) {
	f.subsMu.Lock()
	subs := slices.Clone(f.subs[topic])
	f.subsMu.Unlock()
	for _, fn := range subs {
		fn(payload)
	}
}

func cloneKey(k storage.SigningKey) storage.SigningKey {
	k.PublicJWK = slices.Clone(k.PublicJWK)
	k.PrivateEnc = slices.Clone(k.PrivateEnc)
	if k.ActivatedAt != nil {
		t := *k.ActivatedAt
		k.ActivatedAt = &t
	}
	if k.RetiredAt != nil {
		t := *k.RetiredAt
		k.RetiredAt = &t
	}
	if k.PublishedAt != nil {
		t := *k.PublishedAt
		k.PublishedAt = &t
	}
	if k.RevokedAt != nil {
		t := *k.RevokedAt
		k.RevokedAt = &t
	}
	return k
}

// barrier releases its waiters once n have arrived.
type barrier struct {
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, done: make(chan struct{})} }

func (b *barrier) wait() {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
		close(b.done)
	}
	b.mu.Unlock()
	<-b.done
}
