package server

// Code below the header is generated from storage.Store's method set (a
// go/types walk): every method counts its call, then delegates.

import (
	"context"
	"sync"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// countingStore counts the storage calls a request makes (test only).
type countingStore struct {
	storage.Store
	mu    sync.Mutex
	on    bool
	calls map[string]int
}

func (s *countingStore) count(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.calls[method]++
	}
}

// measure counts the calls fn makes.
func (s *countingStore) measure(fn func()) map[string]int {
	s.mu.Lock()
	s.on, s.calls = true, map[string]int{}
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	return s.calls
}

func (s *countingStore) AddSessionClient(a0 context.Context, a1 string, a2 string, a3 time.Time) error {
	s.count("AddSessionClient")
	return s.Store.AddSessionClient(a0, a1, a2, a3)
}

func (s *countingStore) AppendAudit(a0 context.Context, a1 *storage.AuditEvent) error {
	s.count("AppendAudit")
	return s.Store.AppendAudit(a0, a1)
}

func (s *countingStore) BeginTx(a0 context.Context) (context.Context, error) {
	s.count("BeginTx")
	return s.Store.BeginTx(a0)
}

func (s *countingStore) ClaimLogoutDeliveries(a0 context.Context, a1 time.Time, a2 time.Duration, a3 int) ([]storage.LogoutDelivery, error) {
	s.count("ClaimLogoutDeliveries")
	return s.Store.ClaimLogoutDeliveries(a0, a1, a2, a3)
}

func (s *countingStore) Close() {
	s.count("Close")
	s.Store.Close()
}

func (s *countingStore) CommitTx(a0 context.Context) error {
	s.count("CommitTx")
	return s.Store.CommitTx(a0)
}

func (s *countingStore) CompleteLogoutDelivery(a0 context.Context, a1 int64) error {
	s.count("CompleteLogoutDelivery")
	return s.Store.CompleteLogoutDelivery(a0, a1)
}

func (s *countingStore) ConsumeAuthFlow(a0 context.Context, a1 string) (*storage.AuthFlow, error) {
	s.count("ConsumeAuthFlow")
	return s.Store.ConsumeAuthFlow(a0, a1)
}

func (s *countingStore) CountRecoveryCodes(a0 context.Context, a1 string) (int, error) {
	s.count("CountRecoveryCodes")
	return s.Store.CountRecoveryCodes(a0, a1)
}

func (s *countingStore) CreateAuthFlow(a0 context.Context, a1 *storage.AuthFlow) error {
	s.count("CreateAuthFlow")
	return s.Store.CreateAuthFlow(a0, a1)
}

func (s *countingStore) CreateBrowserSession(a0 context.Context, a1 *storage.BrowserSession) error {
	s.count("CreateBrowserSession")
	return s.Store.CreateBrowserSession(a0, a1)
}

func (s *countingStore) CreateClient(a0 context.Context, a1 *storage.Client) error {
	s.count("CreateClient")
	return s.Store.CreateClient(a0, a1)
}

func (s *countingStore) CreateKey(a0 context.Context, a1 *storage.SigningKey) error {
	s.count("CreateKey")
	return s.Store.CreateKey(a0, a1)
}

func (s *countingStore) CreateRequest(a0 context.Context, a1 *storage.Request) error {
	s.count("CreateRequest")
	return s.Store.CreateRequest(a0, a1)
}

func (s *countingStore) CreateUser(a0 context.Context, a1 *storage.User) error {
	s.count("CreateUser")
	return s.Store.CreateUser(a0, a1)
}

func (s *countingStore) CreateWebAuthnCredential(a0 context.Context, a1 *storage.WebAuthnCredential) error {
	s.count("CreateWebAuthnCredential")
	return s.Store.CreateWebAuthnCredential(a0, a1)
}

func (s *countingStore) DeactivateRequest(a0 context.Context, a1 storage.RequestKind, a2 string) error {
	s.count("DeactivateRequest")
	return s.Store.DeactivateRequest(a0, a1, a2)
}

func (s *countingStore) DeleteBrowserSession(a0 context.Context, a1 string) error {
	s.count("DeleteBrowserSession")
	return s.Store.DeleteBrowserSession(a0, a1)
}

func (s *countingStore) DeleteClient(a0 context.Context, a1 string) error {
	s.count("DeleteClient")
	return s.Store.DeleteClient(a0, a1)
}

func (s *countingStore) DeleteConsent(a0 context.Context, a1 string, a2 string) error {
	s.count("DeleteConsent")
	return s.Store.DeleteConsent(a0, a1, a2)
}

func (s *countingStore) DeleteExpiredAuthFlows(a0 context.Context, a1 time.Time) (int64, error) {
	s.count("DeleteExpiredAuthFlows")
	return s.Store.DeleteExpiredAuthFlows(a0, a1)
}

func (s *countingStore) DeleteExpiredBrowserSessions(a0 context.Context, a1 time.Time) (int64, error) {
	s.count("DeleteExpiredBrowserSessions")
	return s.Store.DeleteExpiredBrowserSessions(a0, a1)
}

func (s *countingStore) DeleteExpiredJTIs(a0 context.Context, a1 time.Time) (int64, error) {
	s.count("DeleteExpiredJTIs")
	return s.Store.DeleteExpiredJTIs(a0, a1)
}

func (s *countingStore) DeleteExpiredLoginThrottles(a0 context.Context, a1 string, a2 time.Time, a3 time.Time) (int64, error) {
	s.count("DeleteExpiredLoginThrottles")
	return s.Store.DeleteExpiredLoginThrottles(a0, a1, a2, a3)
}

func (s *countingStore) DeleteExpiredRequests(a0 context.Context, a1 time.Time) (int64, error) {
	s.count("DeleteExpiredRequests")
	return s.Store.DeleteExpiredRequests(a0, a1)
}

func (s *countingStore) DeleteLoginThrottle(a0 context.Context, a1 string) error {
	s.count("DeleteLoginThrottle")
	return s.Store.DeleteLoginThrottle(a0, a1)
}

func (s *countingStore) DeletePendingLogin(a0 context.Context, a1 string) error {
	s.count("DeletePendingLogin")
	return s.Store.DeletePendingLogin(a0, a1)
}

func (s *countingStore) DeleteRequest(a0 context.Context, a1 storage.RequestKind, a2 string) error {
	s.count("DeleteRequest")
	return s.Store.DeleteRequest(a0, a1, a2)
}

func (s *countingStore) DeleteTOTP(a0 context.Context, a1 string) error {
	s.count("DeleteTOTP")
	return s.Store.DeleteTOTP(a0, a1)
}

func (s *countingStore) DeleteUser(a0 context.Context, a1 string) error {
	s.count("DeleteUser")
	return s.Store.DeleteUser(a0, a1)
}

func (s *countingStore) DeleteWebAuthnCredentials(a0 context.Context, a1 string) error {
	s.count("DeleteWebAuthnCredentials")
	return s.Store.DeleteWebAuthnCredentials(a0, a1)
}

func (s *countingStore) EnqueueLogoutDelivery(a0 context.Context, a1 *storage.LogoutDelivery) error {
	s.count("EnqueueLogoutDelivery")
	return s.Store.EnqueueLogoutDelivery(a0, a1)
}

func (s *countingStore) GetAuthFlow(a0 context.Context, a1 string) (*storage.AuthFlow, error) {
	s.count("GetAuthFlow")
	return s.Store.GetAuthFlow(a0, a1)
}

func (s *countingStore) GetBrowserSession(a0 context.Context, a1 string) (*storage.BrowserSession, error) {
	s.count("GetBrowserSession")
	return s.Store.GetBrowserSession(a0, a1)
}

func (s *countingStore) GetClient(a0 context.Context, a1 string) (*storage.Client, error) {
	s.count("GetClient")
	return s.Store.GetClient(a0, a1)
}

func (s *countingStore) GetConsent(a0 context.Context, a1 string, a2 string) (*storage.Consent, error) {
	s.count("GetConsent")
	return s.Store.GetConsent(a0, a1, a2)
}

func (s *countingStore) GetLoginThrottle(a0 context.Context, a1 string) (*storage.LoginThrottle, error) {
	s.count("GetLoginThrottle")
	return s.Store.GetLoginThrottle(a0, a1)
}

func (s *countingStore) GetPendingLogin(a0 context.Context, a1 string) (*storage.PendingLogin, error) {
	s.count("GetPendingLogin")
	return s.Store.GetPendingLogin(a0, a1)
}

func (s *countingStore) GetRequest(a0 context.Context, a1 storage.RequestKind, a2 string) (*storage.Request, error) {
	s.count("GetRequest")
	return s.Store.GetRequest(a0, a1, a2)
}

func (s *countingStore) GetTOTP(a0 context.Context, a1 string) (*storage.TOTPEnrolment, error) {
	s.count("GetTOTP")
	return s.Store.GetTOTP(a0, a1)
}

func (s *countingStore) GetUser(a0 context.Context, a1 string) (*storage.User, error) {
	s.count("GetUser")
	return s.Store.GetUser(a0, a1)
}

func (s *countingStore) GetUserByUsername(a0 context.Context, a1 string) (*storage.User, error) {
	s.count("GetUserByUsername")
	return s.Store.GetUserByUsername(a0, a1)
}

func (s *countingStore) ListAudit(a0 context.Context, a1 storage.AuditFilter) ([]storage.AuditEvent, error) {
	s.count("ListAudit")
	return s.Store.ListAudit(a0, a1)
}

func (s *countingStore) ListBrowserSessions(a0 context.Context, a1 string) ([]storage.BrowserSession, error) {
	s.count("ListBrowserSessions")
	return s.Store.ListBrowserSessions(a0, a1)
}

func (s *countingStore) ListClients(a0 context.Context) ([]storage.Client, error) {
	s.count("ListClients")
	return s.Store.ListClients(a0)
}

func (s *countingStore) ListConsents(a0 context.Context, a1 string) ([]storage.Consent, error) {
	s.count("ListConsents")
	return s.Store.ListConsents(a0, a1)
}

func (s *countingStore) ListKeys(a0 context.Context) ([]storage.SigningKey, error) {
	s.count("ListKeys")
	return s.Store.ListKeys(a0)
}

func (s *countingStore) ListLogoutDeliveries(a0 context.Context) ([]storage.LogoutDelivery, error) {
	s.count("ListLogoutDeliveries")
	return s.Store.ListLogoutDeliveries(a0)
}

func (s *countingStore) ListSessionClients(a0 context.Context, a1 string) ([]string, error) {
	s.count("ListSessionClients")
	return s.Store.ListSessionClients(a0, a1)
}

func (s *countingStore) ListUsers(a0 context.Context) ([]storage.User, error) {
	s.count("ListUsers")
	return s.Store.ListUsers(a0)
}

func (s *countingStore) ListWebAuthnCredentials(a0 context.Context, a1 string) ([]storage.WebAuthnCredential, error) {
	s.count("ListWebAuthnCredentials")
	return s.Store.ListWebAuthnCredentials(a0, a1)
}

func (s *countingStore) Ping(a0 context.Context) error {
	s.count("Ping")
	return s.Store.Ping(a0)
}

func (s *countingStore) ReplaceRecoveryCodes(a0 context.Context, a1 string, a2 [][]byte, a3 time.Time) error {
	s.count("ReplaceRecoveryCodes")
	return s.Store.ReplaceRecoveryCodes(a0, a1, a2, a3)
}

func (s *countingStore) RequireMFA(a0 context.Context, a1 string) (bool, error) {
	s.count("RequireMFA")
	return s.Store.RequireMFA(a0, a1)
}

func (s *countingStore) RetryLogoutDelivery(a0 context.Context, a1 int64, a2 time.Time, a3 string) error {
	s.count("RetryLogoutDelivery")
	return s.Store.RetryLogoutDelivery(a0, a1, a2, a3)
}

func (s *countingStore) RevokeRequestID(a0 context.Context, a1 storage.RequestKind, a2 string) error {
	s.count("RevokeRequestID")
	return s.Store.RevokeRequestID(a0, a1, a2)
}

func (s *countingStore) RevokeRequestsBySubjectClient(a0 context.Context, a1 string, a2 string) (int64, error) {
	s.count("RevokeRequestsBySubjectClient")
	return s.Store.RevokeRequestsBySubjectClient(a0, a1, a2)
}

func (s *countingStore) RevokeUserRequests(a0 context.Context, a1 string) (int64, error) {
	s.count("RevokeUserRequests")
	return s.Store.RevokeUserRequests(a0, a1)
}

func (s *countingStore) RollbackTx(a0 context.Context) error {
	s.count("RollbackTx")
	return s.Store.RollbackTx(a0)
}

func (s *countingStore) SaveConsent(a0 context.Context, a1 *storage.Consent) error {
	s.count("SaveConsent")
	return s.Store.SaveConsent(a0, a1)
}

func (s *countingStore) SavePendingLogin(a0 context.Context, a1 *storage.PendingLogin) error {
	s.count("SavePendingLogin")
	return s.Store.SavePendingLogin(a0, a1)
}

func (s *countingStore) SaveTOTP(a0 context.Context, a1 *storage.TOTPEnrolment) error {
	s.count("SaveTOTP")
	return s.Store.SaveTOTP(a0, a1)
}

func (s *countingStore) SetRequireMFA(a0 context.Context, a1 string, a2 bool, a3 time.Time) error {
	s.count("SetRequireMFA")
	return s.Store.SetRequireMFA(a0, a1, a2, a3)
}

func (s *countingStore) Subscribe(a0 context.Context, a1 string, a2 func(payload string)) error {
	s.count("Subscribe")
	return s.Store.Subscribe(a0, a1, a2)
}

func (s *countingStore) TakeWebAuthnSession(a0 context.Context, a1 string) ([]byte, error) {
	s.count("TakeWebAuthnSession")
	return s.Store.TakeWebAuthnSession(a0, a1)
}

func (s *countingStore) TouchBrowserSession(a0 context.Context, a1 string, a2 time.Time) error {
	s.count("TouchBrowserSession")
	return s.Store.TouchBrowserSession(a0, a1, a2)
}

func (s *countingStore) UpdateAuthFlow(a0 context.Context, a1 *storage.AuthFlow) error {
	s.count("UpdateAuthFlow")
	return s.Store.UpdateAuthFlow(a0, a1)
}

func (s *countingStore) UpdateClient(a0 context.Context, a1 string, a2 func(c *storage.Client) error) error {
	s.count("UpdateClient")
	return s.Store.UpdateClient(a0, a1, a2)
}

func (s *countingStore) UpdateKeys(a0 context.Context, a1 func(keys []storage.SigningKey) ([]storage.SigningKey, error)) error {
	s.count("UpdateKeys")
	return s.Store.UpdateKeys(a0, a1)
}

func (s *countingStore) UpdateLoginThrottle(a0 context.Context, a1 string, a2 func(t *storage.LoginThrottle) error) error {
	s.count("UpdateLoginThrottle")
	return s.Store.UpdateLoginThrottle(a0, a1, a2)
}

func (s *countingStore) UpdatePasswordHash(a0 context.Context, a1 string, a2 string, a3 time.Time) error {
	s.count("UpdatePasswordHash")
	return s.Store.UpdatePasswordHash(a0, a1, a2, a3)
}

func (s *countingStore) UpdateWebAuthnCredentialUse(a0 context.Context, a1 []byte, a2 uint32, a3 bool, a4 time.Time) error {
	s.count("UpdateWebAuthnCredentialUse")
	return s.Store.UpdateWebAuthnCredentialUse(a0, a1, a2, a3, a4)
}

func (s *countingStore) UseJTI(a0 context.Context, a1 string, a2 time.Time) error {
	s.count("UseJTI")
	return s.Store.UseJTI(a0, a1, a2)
}

func (s *countingStore) UseRecoveryCode(a0 context.Context, a1 string, a2 []byte, a3 time.Time) error {
	s.count("UseRecoveryCode")
	return s.Store.UseRecoveryCode(a0, a1, a2, a3)
}

func (s *countingStore) UseTOTPStep(a0 context.Context, a1 string, a2 int64, a3 time.Time) error {
	s.count("UseTOTPStep")
	return s.Store.UseTOTPStep(a0, a1, a2, a3)
}
