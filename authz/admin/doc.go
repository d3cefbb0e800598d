// Package admin holds Strongroom's administration services: the operations
// operators run on clients (registration, validation, secrets, import and
// export), end users (creation, deletion, credentials, second factors,
// brute-force locks), what a user is signed in with (SessionAdmin: grants
// and browser sessions) and the audit trail (AuditLog: listing and recording
// events). server.NewAdminServices builds them all over one store. The admin
// API (api/admin) and the CLI's local mode call the same services, so both
// validate alike and write the same audit events, each in the transaction of
// its change.
//
// What lives here: the services, their request and result types
// (IssuedSecret, UserInfo, Session, AuditEvent, ...) and their errors
// (ErrNotFound, ErrConflict, ErrUnavailable, ErrTooManySecrets, ...), which
// callers map with errors.Is and errors.As. What a client registration is
// (ClientSpec, its validation, ClientInfo) lives in authz/registration.
//
// What must never live here: HTTP (no net/http handlers, no Echo, no status
// codes), SQL, or the protocol side of the server (token issuance, login
// flows), which stays in authz and its other sub-packages. Results carry no
// storage type, and callers match errors by this package's kinds
// (ErrorKind), not the store's: only the constructors take the store (and
// CredentialAdmin, which the CLI alone uses, the stored user).
package admin
