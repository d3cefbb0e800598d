// Package backchannel delivers OpenID Connect Back-Channel Logout 1.0
// logout tokens. Ending a browser session (authz.SessionManager) only queues
// deliveries, in the transaction that deletes the session; the Sender signs
// a fresh logout token per attempt and posts it to the client's
// backchannel_logout_uri, retrying with backoff, and audits the outcome.
//
// Never here: deciding which sessions end (authz), front-channel or
// RP-initiated logout pages (web), HTTP serving.
package backchannel
