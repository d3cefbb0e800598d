package storage

import (
	"context"
	"time"
)

// Logout is what end-user session management, grant revocation and
// OpenID Connect Back-Channel Logout 1.0 need beyond the basic interfaces.
type Logout interface {
	SessionClients
	GrantRevocation
	LogoutOutbox
}

// SessionClients indexes browser sessions by user and records which clients
// each session logged the user in to: when the session ends, those clients
// receive back-channel logout tokens.
type SessionClients interface {
	// ListBrowserSessions returns the user's unexpired sessions, newest first.
	ListBrowserSessions(ctx context.Context, userID string) ([]BrowserSession, error)
	// AddSessionClient records that the session issued an authorization
	// response to the client. Recording the same pair again is a no-op.
	// ErrNotFound if the session (unexpired) or the client does not exist.
	AddSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error
	// ListSessionClients returns the ids of the clients recorded for the
	// session, ordered by id; none (and no error) for an unknown session.
	// Rows go with their session: deleting the session forgets them.
	ListSessionClients(ctx context.Context, sessionID string) ([]string, error)
}

// GrantRevocation lists remembered consents by user and revokes what a user
// granted a client.
type GrantRevocation interface {
	// ListConsents returns the user's consents ordered by client id.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	// RevokeRequestsBySubjectClient deactivates every active authorization
	// code, access token and refresh token issued to clientID for subject,
	// and reports how many rows it deactivated (zero is not an error).
	RevokeRequestsBySubjectClient(ctx context.Context, subject, clientID string) (int64, error)
	// RevokeUserRequests ends what a user's earlier sign-ins left behind
	// (password change, second factors reset): it deactivates every active
	// authorization code, access token and refresh token issued for subject,
	// to any client, and deletes the user's pending authorization flows
	// (signed in and waiting for consent, or waiting for a second factor).
	// Tokens that a code exchange or refresh running concurrently commits
	// meanwhile are deactivated too. It reports how many tokens it
	// deactivated (zero is not an error). An empty subject (the client
	// credentials grant's) is refused with ErrNotFound.
	RevokeUserRequests(ctx context.Context, subject string) (int64, error)
	// RevokeClientRequests deactivates every active authorization code,
	// access token and refresh token issued to clientID, for every subject
	// and for the client itself (client credentials), including those a
	// code exchange or refresh running concurrently commits meanwhile. It
	// reports how many rows it deactivated (zero is not an error). Disabling
	// and re-enabling a client call it, so a disabled client's tokens never
	// come back to life.
	RevokeClientRequests(ctx context.Context, clientID string) (int64, error)
}

// LogoutDelivery is one pending back-channel logout token delivery: a row of
// a durable outbox, written in the transaction that ends the session, so a
// restart loses nothing. The token itself is signed when it is sent.
type LogoutDelivery struct {
	ID        int64 // assigned by the store, increasing
	ClientID  string
	Subject   string // the user (sub claim)
	SessionID string // the ended browser session (the sid claim derives from it); may be empty
	// Attempts counts claims so far (each claim is one delivery attempt).
	Attempts int
	// NextAttemptAt is when the delivery may next be claimed.
	NextAttemptAt time.Time
	// LastError describes the last failed attempt (status or network error; never a token).
	LastError string
	CreatedAt time.Time
}

// LogoutOutbox is the durable queue of back-channel logout deliveries.
// Several nodes may drain it at once: a claim hides the claimed rows from
// every other claimer for a lease, so no delivery is sent twice concurrently.
type LogoutOutbox interface {
	// EnqueueLogoutDelivery inserts d and sets d.ID. ErrNotFound if the client does not exist.
	EnqueueLogoutDelivery(ctx context.Context, d *LogoutDelivery) error
	// ClaimLogoutDeliveries returns up to limit deliveries whose NextAttemptAt
	// is not after now (the longest overdue are chosen), ordered by id; each
	// is returned with Attempts
	// incremented and NextAttemptAt moved to now+lease (stored and returned).
	// Concurrent claimers never receive the same delivery.
	ClaimLogoutDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]LogoutDelivery, error)
	// CompleteLogoutDelivery removes a delivery (sent, or given up); ErrNotFound if missing.
	CompleteLogoutDelivery(ctx context.Context, id int64) error
	// RetryLogoutDelivery schedules a delivery again at next, recording the
	// failure; ErrNotFound if missing.
	RetryLogoutDelivery(ctx context.Context, id int64, next time.Time, lastErr string) error
	// ListLogoutDeliveries returns every pending delivery ordered by id (operators, tests).
	ListLogoutDeliveries(ctx context.Context) ([]LogoutDelivery, error)
}
