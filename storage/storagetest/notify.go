package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// notifyTimeout bounds the wait for a notification.
const notifyTimeout = 10 * time.Second

// subscribe subscribes to topic until the test ends (or cancel is called)
// and returns the channel payloads arrive on.
func subscribe(t *testing.T, s storage.Store, topic string) (<-chan string, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	ch := make(chan string, 256)
	must(t, s.Subscribe(ctx, topic, func(payload string) {
		select {
		case ch <- payload:
		default: // the test stopped reading
		}
	}))
	return ch, cancel
}

// waitFor reads ch until payload arrives and returns what came before it.
func waitFor(t *testing.T, ch <-chan string, payload string) []string {
	t.Helper()
	var before []string
	timeout := time.After(notifyTimeout)
	for {
		select {
		case p := <-ch:
			if p == payload {
				return before
			}
			before = append(before, p)
		case <-timeout:
			t.Fatalf("no notification %q within %v (got %q)", payload, notifyTimeout, before)
		}
	}
}

func notifyTests() []test {
	return []test{
		{"ok/notify/clients", func(t *testing.T, s storage.Store) {
			ch, _ := subscribe(t, s, storage.TopicClients)
			createClient(t, s, "c1")
			waitFor(t, ch, "c1")
			must(t, s.UpdateClient(t.Context(), "c1", func(c *storage.Client) error { c.Name = "renamed"; return nil }))
			waitFor(t, ch, "c1")
			must(t, s.DeleteClient(t.Context(), "c1"))
			waitFor(t, ch, "c1")
		}},
		{"ok/notify/keys", func(t *testing.T, s storage.Store) {
			ch, _ := subscribe(t, s, storage.TopicKeys)
			must(t, s.CreateKey(t.Context(), newKey("k1", storage.KeyStateNext, base)))
			waitFor(t, ch, "k1")
			must(t, s.UpdateKeys(t.Context(), func(keys []storage.SigningKey) ([]storage.SigningKey, error) {
				keys[0].State = storage.KeyStateActive
				return keys, nil
			}))
			select {
			case <-ch:
			case <-time.After(notifyTimeout):
				t.Fatal("no notification for UpdateKeys")
			}
		}},
		{"ok/notify/on-commit-only", func(t *testing.T, s storage.Store) {
			createClient(t, s, "rolled-back")
			createClient(t, s, "committed")
			ch, _ := subscribe(t, s, storage.TopicClients)
			ctx, err := s.BeginTx(t.Context())
			must(t, err)
			must(t, s.UpdateClient(ctx, "rolled-back", func(c *storage.Client) error { c.Name = "x"; return nil }))
			must(t, s.RollbackTx(ctx))
			must(t, storage.InTx(t.Context(), s, func(ctx context.Context) error {
				return s.UpdateClient(ctx, "committed", func(c *storage.Client) error { c.Name = "x"; return nil })
			}))
			if before := waitFor(t, ch, "committed"); slices.Contains(before, "rolled-back") {
				t.Fatal("a rolled-back change was published")
			}
		}},
		{"ok/notify/cancel-stops-delivery", func(t *testing.T, s storage.Store) {
			createClient(t, s, "c1")
			stopped, cancel := subscribe(t, s, storage.TopicClients)
			live, _ := subscribe(t, s, storage.TopicClients)
			cancel()
			must(t, s.UpdateClient(t.Context(), "c1", func(c *storage.Client) error { c.Name = "x"; return nil }))
			waitFor(t, live, "c1")
			time.Sleep(100 * time.Millisecond)
			select {
			case p := <-stopped:
				t.Fatalf("cancelled subscriber got %q", p)
			default:
			}
		}},
		{"ok/notify/topics-are-separate", func(t *testing.T, s storage.Store) {
			keys, _ := subscribe(t, s, storage.TopicKeys)
			clients, _ := subscribe(t, s, storage.TopicClients)
			createClient(t, s, "c1")
			must(t, s.CreateKey(t.Context(), newKey("k1", storage.KeyStateNext, base)))
			if before := waitFor(t, keys, "k1"); slices.Contains(before, "c1") {
				t.Fatal("a client change reached a keys subscriber")
			}
			if before := waitFor(t, clients, "c1"); slices.Contains(before, "k1") {
				t.Fatal("a key change reached a clients subscriber")
			}
		}},
		{"fail/notify/unknown-topic", func(t *testing.T, s storage.Store) {
			if err := s.Subscribe(t.Context(), "nonsense", func(string) {}); err == nil {
				t.Fatal("Subscribe accepted an unknown topic")
			}
		}},
	}
}
