package main

import (
	"context"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

// keysBackend is what `keys list|rotate|revoke` act on: the database with a
// local key manager (DATABASE_URL, STRONGROOM_KEK), or a remote admin API
// (--endpoint), whose server then uses its own KEK and lifecycle policy.
// Both return the admin API's values, so the commands print the same output.
// `keys rewrap` has no remote form: it needs both KEKs.
type keysBackend interface {
	ListKeys(ctx context.Context) ([]keys.KeyInfo, error)
	// RotateKeys rotates alg, or every algorithm with an active key when
	// alg is empty.
	RotateKeys(ctx context.Context, alg string, force bool) ([]admin.KeyRotation, error)
	RevokeKey(ctx context.Context, kid string) (*admin.KeyRevocation, error)
	Close()
}

var _ keysBackend = (*localKeys)(nil)

// openKeys returns the remote backend when --endpoint is set, else the local
// one. needKEK says whether the command changes keys (local mode then needs
// STRONGROOM_KEK, and --actor names the operator).
func (a *app) openKeys(ctx context.Context, rf *remoteFlags, kf *keysFlags, needKEK bool) (keysBackend, error) {
	remote := func(c *client.Client) keysBackend { return remoteKeys{c.Keys} }
	return openMode(a, rf, remote, func() (keysBackend, error) { return a.openLocalKeys(ctx, kf, needKEK) })
}

// openLocalKeys opens the key lifecycle on the database.
func (a *app) openLocalKeys(ctx context.Context, kf *keysFlags, needKEK bool) (keysBackend, error) {
	policy, err := kf.policy()
	if err != nil {
		return nil, err
	}
	if !needKEK {
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return nil, err
		}
		return &localKeys{store: store, closeStore: closeStore, policy: policy}, nil
	}
	origin, err := a.keysOrigin(kf)
	if err != nil {
		return nil, err
	}
	m, store, closeStore, err := a.keyManager(ctx, kf)
	if err != nil {
		return nil, err
	}
	return &localKeys{store: store, closeStore: closeStore, policy: policy, m: m, origin: origin}, nil
}

// localKeys runs the key lifecycle on the database.
type localKeys struct {
	store      storage.Keys
	closeStore func()
	policy     keys.Policy
	m          *keys.Manager // nil: read-only (list)
	origin     keys.Origin
}

func (l *localKeys) Close() { l.closeStore() }

func (l *localKeys) ListKeys(ctx context.Context) ([]keys.KeyInfo, error) {
	return keys.List(ctx, l.store, l.policy)
}

func (l *localKeys) RotateKeys(ctx context.Context, alg string, force bool) ([]admin.KeyRotation, error) {
	opts := keys.RotateOptions{Force: force, Origin: l.origin}
	var (
		res []keys.RotateResult
		err error
	)
	if alg == "" {
		res, err = l.m.RotateActive(ctx, opts)
	} else {
		res, err = l.m.RotateAlgs(ctx, []string{alg}, opts)
	}
	if err != nil {
		return nil, err
	}
	return admin.NewKeyRotations(res), nil
}

func (l *localKeys) RevokeKey(ctx context.Context, kid string) (*admin.KeyRevocation, error) {
	res, err := l.m.Revoke(ctx, kid, l.origin)
	if err != nil {
		return nil, err
	}
	v := admin.NewKeyRevocation(res)
	return &v, nil
}
