package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz"
)

// The CLI's remote mode: with --endpoint, the clients, users, keys and audit
// commands act on an admin API through its Go client (api/admin/client)
// instead of on the database; both modes return the same values.

// remoteFlags are the persistent --endpoint and --token-file flags of the
// commands that can act on a remote admin API.
type remoteFlags struct {
	endpoint  string
	tokenFile string
}

func addRemoteFlags(cmd *cobra.Command, rf *remoteFlags) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&rf.endpoint, "endpoint", "", "act on the admin API at this URL (e.g. https://auth.internal:8081) instead of the database")
	pf.StringVar(&rf.tokenFile, "token-file", "", "file holding a bearer access token with the strongroom:admin scope (with --endpoint)")
}

// openMode returns remote's backend over the admin API's client when
// --endpoint is set, else local's over the database (--token-file alone is
// a usage error).
func openMode[B any](a *app, rf *remoteFlags, remote func(*client.Client) B, local func() (B, error)) (B, error) {
	var none B
	if err := a.checkActorMode(rf); err != nil {
		return none, err
	}
	if rf.endpoint != "" {
		c, err := a.newRemote(rf)
		if err != nil {
			return none, err
		}
		return remote(c), nil
	}
	if rf.tokenFile != "" {
		return none, usageErrorf("--token-file is used only with --endpoint")
	}
	return local()
}

// The admin API's Go client as the commands use it: nothing to close.
type (
	remoteClients struct{ *client.Clients }
	remoteUsers   struct{ *client.Users }
	remoteKeys    struct{ *client.Keys }
)

var (
	_ adminBackend = remoteClients{}
	_ usersBackend = remoteUsers{}
	_ keysBackend  = remoteKeys{}
)

func (remoteClients) Remote() bool { return true }
func (remoteClients) Close()       {}
func (remoteUsers) Close()         {}
func (remoteKeys) Close()          {}

// newRemote checks --endpoint and --token-file and returns the client of
// that admin API.
func (a *app) newRemote(rf *remoteFlags) (*client.Client, error) {
	u, err := url.Parse(rf.endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, usageErrorf("--endpoint must be an http(s) URL such as https://auth.internal:8081")
	}
	if u.Scheme == "http" {
		if host := u.Hostname(); host != "127.0.0.1" && host != "::1" && host != "localhost" {
			return nil, usageErrorf("--endpoint must use https except on a loopback address: the token would travel in clear")
		}
	}
	if rf.tokenFile == "" {
		return nil, usageErrorf("--endpoint needs --token-file: a file holding an access token with the %s scope", authz.AdminScope)
	}
	data, err := os.ReadFile(rf.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return nil, fmt.Errorf("--token-file %s is empty", rf.tokenFile)
	}
	return client.New(rf.endpoint, token, a.httpClient), nil
}
