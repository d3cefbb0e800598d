package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
)

// userinfoClaims calls the userinfo endpoint and returns its JSON claims.
func (e *env) userinfoClaims(t *testing.T, accessToken string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPhoneScopeReleasesPhoneClaimsInUserinfoAndIDToken: the phone scope
// releases phone_number and phone_number_verified at userinfo and in the
// ID token (OIDC Core §5.4); without it neither appears.
func TestPhoneScopeReleasesPhoneClaimsInUserinfoAndIDToken(t *testing.T) {
	e := start(t)
	ctx := t.Context()
	u, err := e.srv.Store.GetUser(ctx, e.userID)
	if err != nil {
		t.Fatal(err)
	}
	u.PhoneNumber, u.PhoneNumberVerified = "+14155550100", true
	if err := e.srv.Store.UpdateUserProfile(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := webClient("authorization_code")
	c.Scopes = append(c.Scopes, "phone")
	secret := e.createClient(c)

	_, tok := e.userTokens(t, c, secret, []string{"openid", "phone"})
	idt, _ := tok.Extra("id_token").(string)
	for where, claims := range map[string]map[string]any{"userinfo": e.userinfoClaims(t, tok.AccessToken), "ID token": claimsOf(t, idt)} {
		if claims["phone_number"] != "+14155550100" || claims["phone_number_verified"] != true {
			t.Errorf("%s with the phone scope: %v", where, claims)
		}
	}

	_, tok = e.userTokens(t, c, secret, []string{"openid", "profile", "email"})
	idt, _ = tok.Extra("id_token").(string)
	for where, claims := range map[string]map[string]any{"userinfo": e.userinfoClaims(t, tok.AccessToken), "ID token": claimsOf(t, idt)} {
		if _, ok := claims["phone_number"]; ok {
			t.Errorf("%s without the phone scope holds phone_number: %v", where, claims)
		}
		if _, ok := claims["phone_number_verified"]; ok {
			t.Errorf("%s without the phone scope holds phone_number_verified: %v", where, claims)
		}
		if claims["email"] == nil {
			t.Errorf("%s lacks the email the email scope releases: %v", where, claims)
		}
	}
}
