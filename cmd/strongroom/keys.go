package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/cmd/strongroom/internal/flagsource"
	"github.com/strongroom/strongroom/storage"
)

// keysUserAgent is the audit trail's user agent of the key commands.
const keysUserAgent = "strongroom-cli"

// keysFlags are the persistent flags of `strongroom keys`.
type keysFlags struct {
	jwksCache     time.Duration
	tokenLifetime time.Duration
}

// newKeysCmd builds `strongroom keys` and its subcommands.
func newKeysCmd(a *app) *cobra.Command {
	var kf keysFlags
	rf := &remoteFlags{}
	cmd := newGroupCmd("keys", "Manage the keys that sign ID tokens and JWT access tokens",
		`  strongroom keys list
  strongroom keys rotate --alg RS256
  strongroom keys revoke 0dUvn3UFQ2Zyr4j11uHRgQIqdCt1sy4tElw--Dqyjz4
  strongroom keys rewrap --new-kek-file /run/secrets/new-kek
  strongroom keys list --endpoint https://auth.internal:8081 --token-file admin.token`,
		newKeysListCmd(a, &kf, rf),
		newKeysRotateCmd(a, &kf, rf),
		newKeysRevokeCmd(a, &kf, rf),
		newKeysRewrapCmd(a, &kf, rf),
	)
	addRemoteFlags(cmd, rf)
	cmd.Long = `Manage the signing keys.

A key is "next" (published in the JWKS, not signing yet), then "active" (signs;
one per algorithm), then "retired" (published so that the tokens it signed keep
verifying), and is removed once every token it signed has expired. A key
revoked in an emergency is withdrawn from the JWKS at once.

Environment:
  DATABASE_URL     PostgreSQL URL (or pass --database-url)
  STRONGROOM_KEK   the key-encryption key the servers run with (rotate, revoke,
                   rewrap): new keys are encrypted under it
  STRONGROOM_KEK_PREVIOUS
                   while the KEK changes: keys still under the previous KEK
                   are decrypted with it (see keys rewrap --help)

--jwks-cache-lifespan and --max-token-lifespan must match what the servers run
with (serve --jwks-cache-lifespan; the longer of --id-token-lifespan and
--access-token-lifespan): they decide when a next key may sign and when a
retired key may go. Unless given, they are read where serve reads them: the
STRONGROOM_JWKS_CACHE_LIFESPAN, STRONGROOM_ID_TOKEN_LIFESPAN and
STRONGROOM_ACCESS_TOKEN_LIFESPAN variables, then the --config file (default
$STRONGROOM_CONFIG), else their defaults.

list, rotate and revoke also act on a remote admin API with --endpoint URL
--token-file FILE, with the same output: the server then uses its own KEK and
lifecycle settings, and the audit trail names the token's client (--actor and
the lifetime flags are for local mode). rewrap is local only: it needs the old
and the new KEK, which never travel over the admin API.`
	pf := cmd.PersistentFlags()
	pf.DurationVar(&kf.jwksCache, "jwks-cache-lifespan", keys.DefaultJWKSCacheLifetime, "the servers' JWKS cache lifespan")
	pf.DurationVar(&kf.tokenLifetime, "max-token-lifespan", keys.DefaultTokenLifetime, "the servers' longest ID token / access token lifespan")
	// Durations are named --*-lifespan, as serve's; the old names stay as
	// hidden aliases, on the subcommands too.
	flagsource.Alias(pf, "jwks-cache-lifetime", "jwks-cache-lifespan")
	flagsource.Alias(pf, "max-token-lifetime", "max-token-lifespan")
	cmd.SetGlobalNormalizationFunc(pf.GetNormalizeFunc())
	addConfigFlag(pf)
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return kf.applyServerConfig(c, a, rf) }
	return cmd
}

// policy is the key lifecycle policy the flags describe.
func (kf *keysFlags) policy() (keys.Policy, error) {
	if kf.jwksCache <= 0 {
		return keys.Policy{}, usageErrorf("--jwks-cache-lifespan must be positive")
	}
	if kf.tokenLifetime <= 0 {
		return keys.Policy{}, usageErrorf("--max-token-lifespan must be positive")
	}
	return keys.Policy{JWKSCacheLifetime: kf.jwksCache, TokenLifetime: kf.tokenLifetime}, nil
}

// keysOrigin names the operator for the audit trail (the root --actor
// rule: app.operator).
func (a *app) keysOrigin(_ *keysFlags) (keys.Origin, error) {
	op := a.operator()
	return keys.Origin{Actor: op.Name, Source: op.Source, UserAgent: keysUserAgent}, nil
}

// kek returns the decoded STRONGROOM_KEK: a missing or malformed one is a
// usage error, like serve's.
func (a *app) kek() ([]byte, error) {
	kek, err := keys.ParseKEK(a.getenv(envKEK))
	if err != nil {
		return nil, usageErrorf("%s: %v", envKEK, err)
	}
	return kek, nil
}

// envKEKPrevious is the previous key-encryption key while the KEK changes
// (see keys rewrap): keys still encrypted under it are decrypted with it.
const envKEKPrevious = "STRONGROOM_KEK_PREVIOUS"

// previousKEK returns the decoded STRONGROOM_KEK_PREVIOUS, or nil when it is
// not set; a malformed one is a usage error.
func (a *app) previousKEK() ([]byte, error) {
	v := a.getenv(envKEKPrevious)
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	kek, err := keys.ParseKEK(v)
	if err != nil {
		return nil, usageErrorf("%s: %v", envKEKPrevious, err)
	}
	return kek, nil
}

// keyManager opens the store and a key manager on it that records its
// changes in the audit trail. Call the returned func to close the store.
func (a *app) keyManager(ctx context.Context, kf *keysFlags) (*keys.Manager, storage.Store, func(), error) {
	policy, err := kf.policy()
	if err != nil {
		return nil, nil, nil, err
	}
	kek, err := a.kek()
	if err != nil {
		return nil, nil, nil, err
	}
	prev, err := a.previousKEK()
	if err != nil {
		return nil, nil, nil, err
	}
	store, closeStore, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	opts := []keys.Option{keys.WithLogger(a.log), keys.WithAuditTrail(store), keys.WithPolicy(policy)}
	if prev != nil {
		opts = append(opts, keys.WithPreviousKEK(prev))
	}
	m, err := keys.NewManager(store, kek, opts...)
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return m, store, closeStore, nil
}

// checkKeyFlags validates serve's key flags.
func checkKeyFlags(f *serveFlags) error {
	if f.jwksCache <= 0 {
		return usageErrorf("--jwks-cache-lifespan must be positive")
	}
	if lead := (keys.Policy{JWKSCacheLifetime: f.jwksCache}).PublishLead(); f.keyRotation != 0 && f.keyRotation < lead {
		return usageErrorf("--key-rotation-interval must be 0 (off) or at least %s (the JWKS cache lifetime + %s)", lead, keys.PropagationDelay)
	}
	return nil
}
