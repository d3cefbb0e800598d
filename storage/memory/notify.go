package memory

import (
	"context"
	"fmt"

	"github.com/strongroom/strongroom/storage"
)

// subscription delivers the payloads queued for one subscriber, in order,
// from its own goroutine, so a slow subscriber never blocks a writer and fn
// may call the store.
type subscription struct {
	topic  string
	fn     func(string)
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "the queue is not empty"
	queue  []string      // guarded by Store.mu
}

// Subscribe calls fn with the payload of every committed change on topic
// (storage.TopicClients, TopicKeys or TopicRevokedGrants) until ctx ends or the store
// is closed.
func (s *Store) Subscribe(ctx context.Context, topic string, fn func(payload string)) error {
	if topic != storage.TopicClients && topic != storage.TopicKeys && topic != storage.TopicRevokedGrants {
		return fmt.Errorf("memory: subscribe: unknown topic %q", topic)
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{topic: topic, fn: fn, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		return fmt.Errorf("memory: subscribe: store closed: %w", storage.ErrUnavailable)
	}
	s.subs[sub] = struct{}{}
	s.subsDone.Add(1)
	go s.deliver(sub)
	return nil
}

// deliver runs fn for each queued payload until the subscription ends.
func (s *Store) deliver(sub *subscription) {
	defer s.subsDone.Done()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-sub.ctx.Done():
			return
		case <-sub.wake:
		}
		s.mu.Lock()
		queue := sub.queue
		sub.queue = nil
		s.mu.Unlock()
		for _, payload := range queue {
			if sub.ctx.Err() != nil {
				return
			}
			sub.fn(payload)
		}
	}
}

// publish queues committed events for their subscribers.
func (s *Store) publish(events []event) {
	if len(events) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		queued := false
		for _, e := range events {
			if e.topic == sub.topic {
				sub.queue = append(sub.queue, e.payload)
				queued = true
			}
		}
		if queued {
			select {
			case sub.wake <- struct{}{}:
			default:
			}
		}
	}
}
