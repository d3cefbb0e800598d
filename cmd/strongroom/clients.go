package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

func newClientsCmd(a *app) *cobra.Command {
	return newGroupCmd("clients", "Manage OAuth 2.0 clients",
		`  strongroom clients create --name "Billing" --grant-type client_credentials \
      --auth-method client_secret_basic --scope "billing:read"
  strongroom clients list
  strongroom clients get 3q2-7wAAAAAAAAAAAAAAAA -o json
  strongroom clients delete 3q2-7wAAAAAAAAAAAAAAAA --yes`,
		newClientsCreateCmd(a),
		newClientsListCmd(a),
		newClientsGetCmd(a),
		newClientsDeleteCmd(a),
	)
}

func newClientsCreateCmd(a *app) *cobra.Command {
	var s clientSpec
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client",
		Long: `Register an OAuth 2.0 client. The client id is generated. A confidential
client authenticating with client_secret_basic or client_secret_post also
gets a generated secret (256 bits): it is printed once and only its keyed
hash is stored, so STRONGROOM_SECRET must be the server's. Public and
private_key_jwt clients get no secret.

Supported grant types: authorization_code, client_credentials, refresh_token.
Supported auth methods: client_secret_basic, client_secret_post,
private_key_jwt, none (public clients only).
Redirect URIs must be exact absolute https URLs without fragment or wildcard;
public clients may also use http on 127.0.0.1, [::1] or localhost.`,
		Example: `  # A web application (confidential, authorization code with refresh tokens)
  strongroom clients create --name "Web app" \
      --grant-type authorization_code --grant-type refresh_token \
      --redirect-uri https://app.example.com/callback \
      --scope "openid profile email offline_access" --auth-method client_secret_basic

  # A native application (public, PKCE, loopback redirect)
  strongroom clients create --name "CLI" --public --auth-method none \
      --grant-type authorization_code --redirect-uri http://127.0.0.1:8400/callback \
      --scope "openid"

  # A service authenticating with a signed JWT
  strongroom clients create --name "Batch" --grant-type client_credentials \
      --auth-method private_key_jwt --jwks-file batch.jwks.json --scope "reports:write" -o json`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&s.name, "name", "", "human-readable client name (required)")
	f.StringSliceVar(&s.grantTypes, "grant-type", nil, "grant type, repeatable (required): authorization_code, client_credentials, refresh_token")
	f.StringArrayVar(&s.redirectURIs, "redirect-uri", nil, "redirect URI, repeatable (required with authorization_code)")
	f.StringArrayVar(&s.postLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI, repeatable")
	f.StringVar(&s.backchannelLogoutURI, "backchannel-logout-uri", "", "URL that receives OIDC back-channel logout tokens")
	f.BoolVar(&s.firstParty, "first-party", false, "a first-party client: its users are not asked to consent")
	f.StringSliceVar(&s.responseTypes, "response-type", []string{"code"}, `response type, repeatable: "code" or "code id_token"`)
	f.StringVar(&s.scope, "scope", "", `space-separated scopes the client may request, e.g. "openid profile"`)
	f.StringVar(&s.authMethod, "auth-method", "", "token endpoint auth method (required): client_secret_basic, client_secret_post, private_key_jwt, none")
	f.BoolVar(&s.public, "public", false, "a public client (no secret); requires --auth-method none")
	f.BoolVar(&s.requirePAR, "require-par", false, "require pushed authorization requests (RFC 9126)")
	f.BoolVar(&s.requireMFA, "require-mfa", false, "require a second factor (TOTP or passkey) at every login for this client")
	f.StringVar(&s.jwksURI, "jwks-uri", "", "https URL of the client's JWK Set (private_key_jwt)")
	f.StringVar(&s.jwksFile, "jwks-file", "", "file holding the client's public JWK Set (private_key_jwt)")
	f.StringVar(&s.accessTokenFormat, "access-token-format", storage.TokenFormatOpaque, "access token format: opaque or jwt")
	f.StringVar(&s.idTokenAlg, "id-token-alg", "", "ID token signing algorithm: RS256 or ES256 (default: the server's)")
	f.StringArrayVar(&s.audience, "audience", nil, "audience the client may request, repeatable")
	output := addOutputFlag(cmd)
	for _, name := range []string{"name", "grant-type", "auth-method"} {
		_ = cmd.MarkFlagRequired(name)
	}

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		s.responseTypesSet = cmd.Flags().Changed("response-type")
		c, err := s.build(os.ReadFile)
		if err != nil {
			return err
		}
		var hasher *authz.SecretHasher
		if !c.Public && c.TokenEndpointAuthMethod != storage.AuthMethodPrivateKeyJWT {
			if hasher, err = a.secretHasher(); err != nil {
				return err
			}
		}
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()

		if c.ID, err = newClientID(); err != nil {
			return err
		}
		now := time.Now().UTC()
		c.CreatedAt, c.UpdatedAt = now, now
		var secret string
		if hasher != nil {
			if secret, err = authz.GenerateSecret(); err != nil {
				return fmt.Errorf("generate client secret: %w", err)
			}
			hash, err := hasher.Hash(ctx, []byte(secret))
			if err != nil {
				return fmt.Errorf("hash client secret: %w", err)
			}
			c.Secrets = []storage.ClientSecret{{Hash: hash, CreatedAt: now}}
		}
		if err := store.CreateClient(ctx, c); err != nil {
			return fmt.Errorf("create client: %w", err)
		}

		if *output == formatJSON {
			return writeJSON(a.out, struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret,omitempty"`
			}{c.ID, secret})
		}
		fmt.Fprintf(a.out, "Client %q created.\n\n", c.Name)
		tw := newTable(a.out)
		fmt.Fprintf(tw, "  client_id:\t%s\n", c.ID)
		if secret != "" {
			fmt.Fprintf(tw, "  client_secret:\t%s\n", secret)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if secret != "" {
			fmt.Fprintln(a.out, "\nStore the secret now: it is shown only this once and cannot be recovered.")
		}
		return nil
	}
	return cmd
}

// newClientID returns a random client id: 128 bits, base64url.
func newClientID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate client id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// clientView is a client as shown by list and get: RFC 7591 names, secret
// metadata but never a secret or its hash.
type clientView struct {
	ClientID                string          `json:"client_id"`
	ClientName              string          `json:"client_name"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	RedirectURIs            []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris"`
	Scope                   string          `json:"scope"`
	Audience                []string        `json:"audience"`
	Public                  bool            `json:"public"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	RequirePAR              bool            `json:"require_pushed_authorization_requests"`
	RequireMFA              bool            `json:"require_mfa"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	AccessTokenFormat       string          `json:"access_token_format"`
	IDTokenAlg              string          `json:"id_token_signed_response_alg,omitempty"`
	Disabled                bool            `json:"disabled"`
	Secrets                 []secretView    `json:"secrets"`
	CreatedAt               time.Time       `json:"created_at"`
	UpdatedAt               time.Time       `json:"updated_at"`
}

// secretView describes one client secret without revealing it.
type secretView struct {
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func newClientView(c *storage.Client) clientView {
	v := clientView{
		ClientID:                c.ID,
		ClientName:              c.Name,
		GrantTypes:              nonNil(c.GrantTypes),
		ResponseTypes:           nonNil(c.ResponseTypes),
		RedirectURIs:            nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:  nonNil(c.PostLogoutRedirectURIs),
		Scope:                   strings.Join(c.Scopes, " "),
		Audience:                nonNil(c.Audience),
		Public:                  c.Public,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		RequirePAR:              c.RequirePAR,
		RequireMFA:              c.Metadata.RequireMFA,
		JWKSURI:                 c.JWKSURI,
		AccessTokenFormat:       c.AccessTokenFormat,
		IDTokenAlg:              c.IDTokenSignedResponseAlg,
		Disabled:                c.Disabled,
		Secrets:                 make([]secretView, len(c.Secrets)),
		CreatedAt:               c.CreatedAt.UTC(),
		UpdatedAt:               c.UpdatedAt.UTC(),
	}
	if len(c.JWKS) > 0 && json.Valid(c.JWKS) {
		v.JWKS = c.JWKS
	}
	for i, s := range c.Secrets {
		v.Secrets[i] = secretView{CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt}
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newClientsListCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Example: `  strongroom clients list
  strongroom clients list -o json | jq -r '.[].client_id'`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		clients, err := store.ListClients(ctx)
		if err != nil {
			return fmt.Errorf("list clients: %w", err)
		}
		if *output == formatJSON {
			views := make([]clientView, len(clients))
			for i := range clients {
				views[i] = newClientView(&clients[i])
			}
			return writeJSON(a.out, views)
		}
		tw := newTable(a.out)
		fmt.Fprintln(tw, "ID\tNAME\tGRANT TYPES\tAUTH METHOD\tPUBLIC")
		for _, c := range clients {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n",
				c.ID, c.Name, orDash(strings.Join(c.GrantTypes, ",")), orDash(c.TokenEndpointAuthMethod), yesNo(c.Public))
		}
		return tw.Flush()
	}
	return cmd
}

func newClientsGetCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get CLIENT_ID",
		Short: "Show a client",
		Example: `  strongroom clients get 3q2-7wAAAAAAAAAAAAAAAA
  strongroom clients get 3q2-7wAAAAAAAAAAAAAAAA -o json`,
		Args: cobra.ExactArgs(1),
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		c, err := getClient(cmd, store, args[0])
		if err != nil {
			return err
		}
		v := newClientView(c)
		if *output == formatJSON {
			return writeJSON(a.out, v)
		}
		tw := newTable(a.out)
		row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, orDash(v)) }
		row("Client ID", v.ClientID)
		row("Name", v.ClientName)
		row("Grant types", strings.Join(v.GrantTypes, ", "))
		row("Response types", strings.Join(v.ResponseTypes, ", "))
		row("Redirect URIs", strings.Join(v.RedirectURIs, " "))
		row("Post-logout redirect URIs", strings.Join(v.PostLogoutRedirectURIs, " "))
		row("Scope", v.Scope)
		row("Audience", strings.Join(v.Audience, " "))
		row("Public", yesNo(v.Public))
		row("Auth method", v.TokenEndpointAuthMethod)
		row("Require PAR", yesNo(v.RequirePAR))
		row("Require MFA", yesNo(v.RequireMFA))
		row("JWKS URI", v.JWKSURI)
		if len(v.JWKS) > 0 {
			row("JWKS", "registered")
		}
		row("Access token format", v.AccessTokenFormat)
		row("ID token algorithm", v.IDTokenAlg)
		row("Disabled", yesNo(v.Disabled))
		row("Secrets", fmt.Sprint(len(v.Secrets)))
		row("Created", formatTime(v.CreatedAt))
		row("Updated", formatTime(v.UpdatedAt))
		return tw.Flush()
	}
	return cmd
}

// getClient reads a client, turning "not found" into a clear message.
func getClient(cmd *cobra.Command, store storage.Clients, id string) (*storage.Client, error) {
	c, err := store.GetClient(cmd.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("client %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	return c, nil
}

func newClientsDeleteCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client and every token issued to it",
		Example: `  strongroom clients delete 3q2-7wAAAAAAAAAAAAAAAA
  strongroom clients delete 3q2-7wAAAAAAAAAAAAAAAA --yes`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		c, err := getClient(cmd, store, args[0])
		if err != nil {
			return err
		}
		if err := a.confirm(yes, fmt.Sprintf("Delete client %s (%q) and every token issued to it?", c.ID, c.Name)); err != nil {
			return err
		}
		if err := store.DeleteClient(ctx, c.ID); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("client %q not found", c.ID)
			}
			return fmt.Errorf("delete client: %w", err)
		}
		fmt.Fprintf(a.out, "Deleted client %s.\n", c.ID)
		return nil
	}
	return cmd
}
