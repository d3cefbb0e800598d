package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz"
)

// The CLI's remote mode: with --endpoint, the clients, users, keys and audit
// commands act on an admin API through its Go client (api/admin/client)
// instead of on the database; both modes return the same values.

// remoteFlags are the persistent --endpoint and --token-file flags of the
// commands that can act on a remote admin API.
type remoteFlags struct {
	endpoint         string
	tokenFile        string
	clientID         string
	clientSecretFile string
	issuer           string
	caFile           string
	certFile         string
	keyFile          string
	// allowInsecureRedirects is the clients commands' local-mode policy
	// (--allow-insecure-redirects; a remote server applies its own).
	allowInsecureRedirects bool
}

func addRemoteFlags(cmd *cobra.Command, rf *remoteFlags) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&rf.endpoint, "endpoint", "", "act on the admin API at this URL (e.g. https://auth.internal:8081) instead of the database")
	pf.StringVar(&rf.tokenFile, "token-file", "", "file holding a bearer access token with the strongroom:admin scope (with --endpoint)")
	pf.StringVar(&rf.clientID, "client-id", "", "fetch the admin token with the client credentials grant as this client (with --endpoint, --issuer, and --client-secret-file or, for a tls_client_auth client, --cert/--key)")
	pf.StringVar(&rf.clientSecretFile, "client-secret-file", "", "file holding the --client-id's secret")
	pf.StringVar(&rf.issuer, "issuer", "", "the server's issuer URL, whose discovery document names the token endpoint (with --client-id)")
	pf.StringVar(&rf.caFile, "ca-file", "", "PEM file of CA certificates to trust for the admin API and the token endpoint (besides the system's)")
	pf.StringVar(&rf.certFile, "cert", "", "PEM client certificate to present to the admin API (an mTLS admin listener: serve --admin-client-ca); alone, it authenticates the operator")
	pf.StringVar(&rf.keyFile, "key", "", "PEM private key of --cert")
}

// used reports whether a flag of the remote mode other than --endpoint is set.
func (rf *remoteFlags) used() string {
	for _, f := range []struct{ name, v string }{
		{"--token-file", rf.tokenFile}, {"--client-id", rf.clientID}, {"--client-secret-file", rf.clientSecretFile},
		{"--issuer", rf.issuer}, {"--ca-file", rf.caFile}, {"--cert", rf.certFile}, {"--key", rf.keyFile},
	} {
		if f.v != "" {
			return f.name
		}
	}
	return ""
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
		if rf.allowInsecureRedirects {
			return none, usageErrorf("--allow-insecure-redirects applies to the database (local mode); a remote server decides with serve --allow-insecure-redirects or --dev")
		}
		c, err := a.newRemote(rf)
		if err != nil {
			return none, err
		}
		return remote(c), nil
	}
	if name := rf.used(); name != "" {
		return none, usageErrorf("%s is used only with --endpoint", name)
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

// newRemote checks the remote flags and returns the client of that admin
// API, authenticated one of three ways: a token read from --token-file; a
// token fetched with the client credentials grant (--client-id,
// --client-secret-file, --issuer; scope strongroom:admin); or, with
// neither, the client certificate alone (--cert/--key, an mTLS admin
// listener).
func (a *app) newRemote(rf *remoteFlags) (*client.Client, error) {
	if err := checkRemoteURL("--endpoint", rf.endpoint, "https://auth.internal:8081", "the token"); err != nil {
		return nil, err
	}
	if (rf.certFile == "") != (rf.keyFile == "") {
		return nil, usageErrorf("--cert and --key go together")
	}
	if rf.tokenFile != "" && rf.clientID != "" {
		return nil, usageErrorf("--token-file and --client-id are two ways to authenticate: pass one")
	}
	if rf.clientID != "" && ((rf.clientSecretFile == "" && rf.certFile == "") || rf.issuer == "") {
		return nil, usageErrorf("--client-id needs --issuer (the server's issuer URL) and --client-secret-file, " +
			"or --cert/--key for a tls_client_auth client")
	}
	if rf.clientID == "" && (rf.clientSecretFile != "" || rf.issuer != "") {
		return nil, usageErrorf("--client-secret-file and --issuer are used only with --client-id")
	}
	if rf.tokenFile == "" && rf.clientID == "" && rf.certFile == "" {
		return nil, usageErrorf("--endpoint needs --token-file, --client-id with --client-secret-file, or --cert with --key: "+
			"a token with the %s scope or a client certificate", authz.AdminScope)
	}
	tokenHTTP, adminHTTP, err := a.remoteHTTPClients(rf)
	if err != nil {
		return nil, err
	}
	var token string
	switch {
	case rf.tokenFile != "":
		data, err := os.ReadFile(rf.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		if token = strings.TrimSpace(string(data)); token == "" {
			return nil, fmt.Errorf("--token-file %s is empty", rf.tokenFile)
		}
	case rf.clientID != "":
		if token, err = fetchAdminToken(rf, tokenHTTP); err != nil {
			return nil, err
		}
	}
	return client.New(rf.endpoint, token, adminHTTP), nil
}

// checkRemoteURL accepts an http(s) URL, plain http on a loopback address only.
func checkRemoteURL(flag, raw, example, what string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageErrorf("%s must be an http(s) URL such as %s", flag, example)
	}
	if u.Scheme == "http" {
		if host := u.Hostname(); host != "127.0.0.1" && host != "::1" && host != "localhost" {
			return usageErrorf("%s must use https except on a loopback address: %s would travel in clear", flag, what)
		}
	}
	return nil
}

// remoteHTTPClients returns the HTTP clients of the token endpoint (trusting
// --ca-file) and of the admin API (trusting --ca-file, presenting --cert).
// Without either flag both are the app's client (nil: a default one).
func (a *app) remoteHTTPClients(rf *remoteFlags) (tokenHTTP, adminHTTP *http.Client, err error) {
	if rf.caFile == "" && rf.certFile == "" {
		return a.httpClient, a.httpClient, nil
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	if rf.caFile != "" {
		pem, err := os.ReadFile(rf.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("--ca-file %s holds no PEM certificate", rf.caFile)
		}
		base.RootCAs = pool
	}
	newClient := func(cfg *tls.Config) *http.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg
		return &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	adminTLS := base.Clone()
	if rf.certFile != "" {
		cert, err := tls.LoadX509KeyPair(rf.certFile, rf.keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--cert/--key: %w", err)
		}
		adminTLS.Certificates = []tls.Certificate{cert}
		if rf.clientID != "" && rf.clientSecretFile == "" {
			// tls_client_auth: the certificate is the client's credential
			// at the token endpoint too.
			base = adminTLS
		}
	}
	return newClient(base), newClient(adminTLS), nil
}

// fetchAdminToken finds the token endpoint in the issuer's discovery
// document and asks it for a token with the strongroom:admin scope through
// the client credentials grant (client_secret_basic, or tls_client_auth
// with the --cert certificate when no secret file is given). Its errors say what
// to check, in one sentence, never the secret.
func fetchAdminToken(rf *remoteFlags, httpClient *http.Client) (string, error) {
	if err := checkRemoteURL("--issuer", rf.issuer, "https://auth.example.com", "the client secret"); err != nil {
		return "", err
	}
	// Without a secret the client authenticates with its certificate
	// (tls_client_auth, RFC 8705): client_id in the form, the certificate
	// presented by httpClient.
	secret, style := "", oauth2.AuthStyleInParams
	if rf.clientSecretFile != "" {
		data, err := os.ReadFile(rf.clientSecretFile)
		if err != nil {
			return "", fmt.Errorf("--client-secret-file: %w", err)
		}
		if secret = strings.TrimSpace(string(data)); secret == "" {
			return "", fmt.Errorf("--client-secret-file %s is empty", rf.clientSecretFile)
		}
		style = oauth2.AuthStyleInHeader
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tokenURL, err := discoverTokenEndpoint(ctx, httpClient, rf.issuer)
	if err != nil {
		return "", err
	}
	cc := clientcredentials.Config{
		ClientID: rf.clientID, ClientSecret: secret, TokenURL: tokenURL,
		Scopes: []string{authz.AdminScope}, AuthStyle: style,
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, httpClient))
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_client":
		if secret == "" {
			return "", fmt.Errorf("the token endpoint refused client %q: is it registered with tls_client_auth for the certificate of --cert? (check --client-id and --cert)", rf.clientID)
		}
		return "", fmt.Errorf("the token endpoint refused client %q: wrong client id or secret (check --client-id and --client-secret-file)", rf.clientID)
	case errors.As(err, &re) && (re.ErrorCode == "invalid_scope" || re.ErrorCode == "unauthorized_client"):
		return "", fmt.Errorf("client %q may not get an admin token (%s): register it with the %s scope and the client_credentials grant only",
			rf.clientID, re.ErrorCode, authz.AdminScope)
	case errors.As(err, &re):
		return "", fmt.Errorf("the token endpoint %s refused the request: %s %s", tokenURL, cmp.Or(re.ErrorCode, re.Response.Status), re.ErrorDescription)
	case err != nil:
		return "", fmt.Errorf("cannot get a token from %s: %s", tokenURL, rootCause(err))
	}
	return tok.AccessToken, nil
}

// discoverTokenEndpoint reads token_endpoint from the issuer's OpenID
// Connect discovery document, whose issuer must be the one given.
func discoverTokenEndpoint(ctx context.Context, httpClient *http.Client, issuer string) (string, error) {
	issuer = strings.TrimRight(issuer, "/")
	wellKnown := issuer + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return "", usageErrorf("--issuer: %v", err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the issuer %s: %s", issuer, rootCause(err))
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %s: is --issuer the server's issuer URL?", wellKnown, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || doc.TokenEndpoint == "" {
		return "", fmt.Errorf("%s holds no token_endpoint: is --issuer the server's issuer URL?", wellKnown)
	}
	if strings.TrimRight(doc.Issuer, "/") != issuer {
		return "", fmt.Errorf("the discovery document at %s names the issuer %q, not %q", wellKnown, doc.Issuer, issuer)
	}
	return doc.TokenEndpoint, nil
}

// rootCause is the innermost error's message (a TLS or connection failure),
// without the chain of operations that wrapped it.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
