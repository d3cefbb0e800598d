package keys

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// KeyInfo is what operators see of a signing key (`strongroom keys list`,
// the admin API's GET /admin/v1/keys): identity, state and dates, never
// private material.
type KeyInfo struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt time.Time  `json:"published_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// SignsFrom is when a next key may become active (Policy.ReadyAt).
	SignsFrom *time.Time `json:"signs_from,omitempty"`
	// RemoveAfter is when a retired or revoked key may be removed (Policy.RemoveAt).
	RemoveAfter *time.Time `json:"remove_after,omitempty"`
}

// NewKeyInfo describes k under policy p. Times are UTC.
func NewKeyInfo(k *storage.SigningKey, p Policy) KeyInfo {
	v := KeyInfo{
		KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt.UTC(),
		PublishedAt: publishedAt(k).UTC(),
		ActivatedAt: utcPtr(k.ActivatedAt), RetiredAt: utcPtr(k.RetiredAt), RevokedAt: utcPtr(k.RevokedAt),
	}
	switch k.State {
	case storage.KeyStateNext:
		at := p.ReadyAt(k).UTC()
		v.SignsFrom = &at
	case storage.KeyStateRetired, storage.KeyStateRevoked:
		at := p.RemoveAt(k).UTC()
		v.RemoveAfter = &at
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// infoStateOrder sorts keys within an algorithm: the signing key first.
var infoStateOrder = map[string]int{
	storage.KeyStateActive: 0, storage.KeyStateNext: 1, storage.KeyStateRetired: 2, storage.KeyStateRevoked: 3,
}

// List describes every stored key under policy p, ordered by algorithm
// (RS256 first), state (active, next, retired, revoked) and age (newest
// first). It needs no key-encryption key: nothing is decrypted.
func List(ctx context.Context, store storage.Keys, p Policy) ([]KeyInfo, error) {
	rows, err := store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	p = p.withDefaults()
	out := make([]KeyInfo, 0, len(rows))
	for i := range rows {
		out = append(out, NewKeyInfo(&rows[i], p))
	}
	algRank := func(alg string) int {
		if i := slices.Index(algOrder, alg); i >= 0 {
			return i
		}
		return len(algOrder)
	}
	slices.SortStableFunc(out, func(a, b KeyInfo) int {
		return cmp.Or(
			cmp.Compare(algRank(a.Alg), algRank(b.Alg)),
			cmp.Compare(a.Alg, b.Alg),
			cmp.Compare(infoStateOrder[a.State], infoStateOrder[b.State]),
			b.CreatedAt.Compare(a.CreatedAt),
		)
	})
	return out, nil
}

// List describes the stored keys under the manager's policy (see List).
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	return List(ctx, m.store, m.policy)
}

// ActiveAlgorithms lists the algorithms that have an active key in store,
// RS256 first: what a rotation without a named algorithm rotates.
func ActiveAlgorithms(ctx context.Context, store storage.Keys) ([]string, error) {
	rows, err := store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	have := activeAlgs(rows)
	var algs []string
	for _, alg := range algOrder {
		if have[alg] {
			algs = append(algs, alg)
		}
	}
	return algs, nil
}

// RotateActive rotates every algorithm that has an active key, in one
// transaction (RotateAlgs). It returns ErrNoActiveKey when there is none.
func (m *Manager) RotateActive(ctx context.Context, opts RotateOptions) ([]RotateResult, error) {
	algs, err := ActiveAlgorithms(ctx, m.store)
	if err != nil {
		return nil, err
	}
	if len(algs) == 0 {
		return nil, fmt.Errorf("keys: rotate: %w", ErrNoActiveKey)
	}
	return m.RotateAlgs(ctx, algs, opts)
}
