// Package storage declares what Strongroom persists: small interfaces per
// concern (clients, users, signing keys, fosite requests, client assertion
// JTIs, pending authorization flows, browser sessions, consents), their value
// types, sentinel errors and the few checks every implementation shares
// (CheckKeySet, OmittedKIDs). It knows nothing of fosite or HTTP.
//
// Implementations: storage/postgres (production) and storage/memory (dev mode
// and fast tests). storage/storagetest is the one conformance suite both pass.
package storage
