package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/cmd/strongroom/internal/flagsource"
)

// serverKeyLifetimes are the key lifecycle settings of the servers'
// configuration; nil where the configuration leaves the default.
type serverKeyLifetimes struct {
	jwksCache     *time.Duration // serve --jwks-cache-lifespan
	tokenLifetime *time.Duration // the longer of serve's --id-token-lifespan and --access-token-lifespan
}

// readServerKeyLifetimes reads serve's lifetimes from the same sources serve
// reads them (STRONGROOM_* variables, then the config file at path) so that
// the keys commands need not repeat them. database-url is known too, so
// that a file shared with serve is accepted whole.
func readServerKeyLifetimes(cmd *cobra.Command, a *app, path string) (serverKeyLifetimes, error) {
	serve := newServeCmd(a).Flags()
	serve.AddFlagSet(cmd.Root().PersistentFlags())
	origins, err := flagsource.Apply(serve, path, flagsource.Options{EnvPrefix: envPrefix, Getenv: a.getenv, Skip: configSkips})
	if err != nil {
		return serverKeyLifetimes{}, usageErrorf("configuration: %v", err)
	}
	var out serverKeyLifetimes
	if origins["jwks-cache-lifespan"].Kind != flagsource.FromDefault {
		d, _ := serve.GetDuration("jwks-cache-lifespan")
		out.jwksCache = &d
	}
	if origins["id-token-lifespan"].Kind != flagsource.FromDefault || origins["access-token-lifespan"].Kind != flagsource.FromDefault {
		id, _ := serve.GetDuration("id-token-lifespan")
		access, _ := serve.GetDuration("access-token-lifespan")
		d := max(id, access)
		out.tokenLifetime = &d
	}
	return out, nil
}

// applyServerConfig fills --jwks-cache-lifespan and --max-token-lifespan,
// when not given, from the servers' configuration (local mode only: in
// remote mode the server applies its own).
func (kf *keysFlags) applyServerConfig(cmd *cobra.Command, a *app, rf *remoteFlags) error {
	if rf.endpoint != "" {
		return nil
	}
	lt, err := readServerKeyLifetimes(cmd, a, configPath(cmd, a))
	if err != nil {
		return err
	}
	if lt.jwksCache != nil && !cmd.Flags().Changed("jwks-cache-lifespan") {
		kf.jwksCache = *lt.jwksCache
	}
	if lt.tokenLifetime != nil && !cmd.Flags().Changed("max-token-lifespan") {
		kf.tokenLifetime = *lt.tokenLifetime
	}
	return nil
}
