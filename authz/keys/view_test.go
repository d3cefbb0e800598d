package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

func TestList(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	store := memory.New()
	seed(t, store,
		testKey(t, kek, ES256, storage.KeyStateRetired, 48*time.Hour),
		testKey(t, kek, ES256, storage.KeyStateActive, time.Hour),
		testKey(t, kek, RS256, storage.KeyStateNext, time.Minute),
		testKey(t, kek, RS256, storage.KeyStateActive, 2*time.Hour),
	)
	infos, err := List(ctx, store, testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range infos {
		got = append(got, k.Alg+"/"+k.State)
		switch k.State {
		case storage.KeyStateNext:
			if k.SignsFrom == nil || !k.SignsFrom.Equal(k.PublishedAt.Add(testPolicy.PublishLead())) {
				t.Errorf("next key signs from %v", k.SignsFrom)
			}
		case storage.KeyStateRetired:
			if k.RemoveAfter == nil {
				t.Error("retired key without remove_after")
			}
		}
	}
	if strings.Join(got, " ") != "RS256/active RS256/next ES256/active ES256/retired" {
		t.Fatalf("order %v", got)
	}
	raw, _ := json.Marshal(infos)
	for _, k := range listKeys(t, store) {
		if bytes.Contains(raw, k.PrivateEnc[:12]) || strings.Contains(string(raw), "private") {
			t.Fatal("key listing carries private material")
		}
	}
	m := newTestManager(t, store, kek, WithPolicy(testPolicy))
	if viaManager, err := m.List(ctx); err != nil || len(viaManager) != 4 {
		t.Fatalf("Manager.List: %v %v", viaManager, err)
	}
	algs, err := ActiveAlgorithms(ctx, store)
	if err != nil || strings.Join(algs, ",") != "RS256,ES256" {
		t.Fatalf("active algorithms %v %v", algs, err)
	}
}

func TestRotateActive(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	t.Run("ok/every-active-algorithm", func(t *testing.T) {
		store := memory.New()
		seed(t, store, testKey(t, kek, RS256, storage.KeyStateActive, time.Hour), testKey(t, kek, ES256, storage.KeyStateActive, time.Hour))
		m := lifecycleManager(t, store, kek, newClock())
		res, err := m.RotateActive(ctx, RotateOptions{Force: true, Origin: operator})
		if err != nil || len(res) != 2 || res[0].Alg != RS256 || res[1].Alg != ES256 {
			t.Fatalf("rotate %+v %v", res, err)
		}
	})
	t.Run("fail/no-active-key", func(t *testing.T) {
		m := lifecycleManager(t, memory.New(), kek, newClock())
		if _, err := m.RotateActive(ctx, RotateOptions{Origin: operator}); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("err %v", err)
		}
	})
}

// A server running with the new KEK and the previous one keeps loading the
// keys before, during and after a rewrap; one with the old KEK only does not
// after it.
func TestPreviousKEK(t *testing.T) {
	ctx := context.Background()
	oldKEK, newKEK := testKEK(t), testKEK(t)

	t.Run("fail/previous-kek-wrong-length", func(t *testing.T) {
		if _, err := NewManager(memory.New(), newKEK, WithPreviousKEK(oldKEK[:16])); !errors.Is(err, ErrInvalidKEK) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("fail/new-kek-alone-cannot-open-old-keys", func(t *testing.T) {
		store := memory.New()
		seed(t, store, testKey(t, oldKEK, RS256, storage.KeyStateActive, time.Hour))
		if err := newTestManager(t, store, newKEK).Reload(ctx); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ok/loads-across-rewrap", func(t *testing.T) {
		store := memory.New()
		seed(t, store,
			testKey(t, oldKEK, RS256, storage.KeyStateActive, time.Hour),
			testKey(t, oldKEK, ES256, storage.KeyStateActive, time.Hour))
		oldOnly := lifecycleManager(t, store, oldKEK, newClock())
		both := lifecycleManager(t, store, newKEK, newClock(), WithPreviousKEK(oldKEK))
		reload(t, both)
		signWith(t, both, RS256)

		// The new-KEK server rotates before the rewrap: its fresh keys are
		// under the new KEK, the older ones still under the old.
		if _, err := both.Rotate(ctx, ES256, RotateOptions{Force: true, Origin: operator}); err != nil {
			t.Fatal(err)
		}
		reload(t, both)
		n, err := oldOnly.Rewrap(ctx, oldKEK, newKEK, operator, nil)
		if err != nil || n != 3 { // RS256 active, ES256 retired, ES256 active (fresh, already under the new KEK)
			t.Fatalf("rewrap %d %v", n, err)
		}
		reload(t, both)
		for _, alg := range []string{RS256, ES256} {
			if _, err := both.Signer(alg).Validate(ctx, signWith(t, both, alg)); err != nil {
				t.Errorf("%s: %v", alg, err)
			}
		}
		// Every key now opens under the new KEK alone.
		reload(t, newTestManager(t, store, newKEK))
		if err := oldOnly.Reload(ctx); !errors.Is(err, ErrDecrypt) {
			t.Errorf("old-KEK-only server still loads: %v", err)
		}
		// A second rewrap finds nothing under the old KEK and refuses.
		before := listKeys(t, store)
		if _, err := oldOnly.Rewrap(ctx, oldKEK, newKEK, operator, nil); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "swapped") {
			t.Fatalf("second rewrap: %v", err)
		}
		sameKeys(t, listKeys(t, store), before)
	})
}
