package mfa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/strongroom/strongroom/storage"
)

// ErrWebAuthnFailed refuses a WebAuthn response that does not verify
// (garbage, wrong challenge or origin, unknown credential, cloned
// authenticator) or arrives without a ceremony in progress.
var ErrWebAuthnFailed = errors.New("the security key or passkey response could not be verified")

// maxWebAuthnResponse bounds the JSON a browser may post back.
const maxWebAuthnResponse = 8 << 10

// newWebAuthn configures go-webauthn for the issuer: the relying party id is
// the issuer's host name and the only accepted origin is the issuer's. An
// issuer named by an IP address cannot be a WebAuthn relying party
// (WebAuthn §5.1.3 requires a domain): passkeys are then off (nil).
func newWebAuthn(issuer, productName string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("webauthn: issuer: %w", err)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, nil
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: productName,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return w, nil
}

// webauthnUser adapts a user and their credentials to go-webauthn. The user
// handle is the user id (a UUID: no personal data, at most 64 bytes).
type webauthnUser struct {
	u     *storage.User
	creds []webauthn.Credential
}

func (w *webauthnUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *webauthnUser) WebAuthnName() string                       { return w.u.Username }
func (w *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }
func (w *webauthnUser) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.u.Username
}

func (s *Service) loadWebAuthnUser(ctx context.Context, u *storage.User) (*webauthnUser, error) {
	stored, err := s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list WebAuthn credentials: %w", err)
	}
	w := &webauthnUser{u: u}
	for _, c := range stored {
		var transports []protocol.AuthenticatorTransport
		for _, t := range c.Transports {
			transports = append(transports, protocol.AuthenticatorTransport(t))
		}
		w.creds = append(w.creds, webauthn.Credential{
			ID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType, Transport: transports,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
				BackupEligible: c.BackupEligible, BackupState: c.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
		})
	}
	return w, nil
}

// beginWebAuthn stores the ceremony state on the pending login (server side,
// single use) and returns the options for navigator.credentials as JSON.
func (s *Service) beginWebAuthn(ctx context.Context, pl *storage.PendingLogin, options any, session *webauthn.SessionData) ([]byte, error) {
	state, err := json.Marshal(session)
	if err != nil {
		return nil, fmt.Errorf("encode WebAuthn session: %w", err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("encode WebAuthn options: %w", err)
	}
	pl.WebAuthnSession = state
	if err := s.store.SavePendingLogin(ctx, pl); err != nil {
		return nil, fmt.Errorf("save WebAuthn session: %w", err)
	}
	return opts, nil
}

// takeWebAuthnSession returns the ceremony state of the flow, once.
func (s *Service) takeWebAuthnSession(ctx context.Context, flowID string) (*webauthn.SessionData, error) {
	if s.webauthn == nil {
		return nil, ErrWebAuthnFailed
	}
	state, err := s.store.TakeWebAuthnSession(ctx, flowID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrWebAuthnFailed
	}
	if err != nil {
		return nil, fmt.Errorf("take WebAuthn session: %w", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(state, &sd); err != nil {
		return nil, fmt.Errorf("decode WebAuthn session: %w", err)
	}
	return &sd, nil
}

// BeginPasskeyRegistration starts registering a credential for the pending
// login's user; existing credentials are excluded.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, pl *storage.PendingLogin, u *storage.User) ([]byte, error) {
	if s.webauthn == nil {
		return nil, nil
	}
	w, err := s.loadWebAuthnUser(ctx, u)
	if err != nil {
		return nil, err
	}
	creation, session, err := s.webauthn.BeginRegistration(w,
		webauthn.WithExclusions(webauthn.Credentials(w.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin WebAuthn registration: %w", err)
	}
	return s.beginWebAuthn(ctx, pl, creation, session)
}

// FinishPasskeyRegistration verifies the browser's attestation response and
// stores the credential.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, flowID string, u *storage.User, response []byte) error {
	session, err := s.takeWebAuthnSession(ctx, flowID)
	if err != nil {
		return err
	}
	if len(response) == 0 || len(response) > maxWebAuthnResponse {
		return ErrWebAuthnFailed
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	w, err := s.loadWebAuthnUser(ctx, u)
	if err != nil {
		return err
	}
	cred, err := s.webauthn.CreateCredential(w, *session, parsed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	var transports []string
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	err = s.store.CreateWebAuthnCredential(ctx, &storage.WebAuthnCredential{
		ID: cred.ID, UserID: u.ID, Name: "Passkey", PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, UserVerified: cred.Flags.UserVerified,
		CreatedAt: s.now(),
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("%w: credential already registered", ErrWebAuthnFailed)
	}
	if err != nil {
		return fmt.Errorf("store WebAuthn credential: %w", err)
	}
	return nil
}

// BeginPasskeyLogin starts an assertion with the user's credentials.
func (s *Service) BeginPasskeyLogin(ctx context.Context, pl *storage.PendingLogin, u *storage.User) ([]byte, error) {
	if s.webauthn == nil {
		return nil, nil
	}
	w, err := s.loadWebAuthnUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(w.creds) == 0 {
		return nil, nil
	}
	assertion, session, err := s.webauthn.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin WebAuthn login: %w", err)
	}
	return s.beginWebAuthn(ctx, pl, assertion, session)
}

// FinishPasskeyLogin verifies the browser's assertion and records the new
// signature counter. A counter that did not grow (a possibly cloned
// authenticator) fails.
func (s *Service) FinishPasskeyLogin(ctx context.Context, flowID string, u *storage.User, response []byte) error {
	session, err := s.takeWebAuthnSession(ctx, flowID)
	if err != nil {
		return err
	}
	if len(response) == 0 || len(response) > maxWebAuthnResponse {
		return ErrWebAuthnFailed
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	w, err := s.loadWebAuthnUser(ctx, u)
	if err != nil {
		return err
	}
	cred, err := s.webauthn.ValidateLogin(w, *session, parsed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebAuthnFailed, err)
	}
	if cred.Authenticator.CloneWarning {
		return fmt.Errorf("%w: signature counter did not increase", ErrWebAuthnFailed)
	}
	if err := s.store.UpdateWebAuthnCredentialUse(ctx, cred.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, s.now()); err != nil {
		return fmt.Errorf("record WebAuthn use: %w", err)
	}
	return nil
}
