package grant

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/ory/fosite"
)

func TestAudienceMatchingIsExact(t *testing.T) {
	const issuer = "https://as.example"
	registered := []string{"https://api.example/pay", "urn:example:ledger"}
	for name, tc := range map[string]struct {
		allowed, requested []string
		ok                 bool
	}{
		"ok/exact":                 {registered, []string{"https://api.example/pay"}, true},
		"ok/several":               {registered, registered, true},
		"ok/none":                  {registered, nil, true},
		"ok/issuer-when-none":      {nil, []string{issuer}, true},
		"fail/sub-path":            {registered, []string{"https://api.example/pay/admin"}, false},
		"fail/trailing-slash":      {registered, []string{"https://api.example/pay/"}, false},
		"fail/parent":              {registered, []string{"https://api.example"}, false},
		"fail/case":                {registered, []string{"https://API.example/pay"}, false},
		"fail/one-of-two":          {registered, []string{"https://api.example/pay", "https://api.example/other"}, false},
		"fail/issuer-when-some":    {registered, []string{issuer}, false},
		"fail/other-when-none":     {nil, []string{"https://api.example/pay"}, false},
		"fail/issuer-path-in-none": {nil, []string{issuer + "/admin"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			err := ExactAudience(issuer)(tc.allowed, tc.requested)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && fosite.ErrorToRFC6749Error(err).ErrorField != "invalid_target" {
				t.Fatalf("err = %v, want invalid_target", err)
			}
		})
	}
}

func TestRequestedTargetsTakeResourceAndAudience(t *testing.T) {
	for name, tc := range map[string]struct {
		form url.Values
		want []string
		err  bool
	}{
		"ok/resources":          {url.Values{"resource": {"https://a.example/x", "https://b.example"}}, []string{"https://a.example/x", "https://b.example"}, false},
		"ok/audience-spaced":    {url.Values{"audience": {"a b"}}, []string{"a", "b"}, false},
		"ok/both-deduplicated":  {url.Values{"audience": {"https://a.example"}, "resource": {"https://a.example"}}, []string{"https://a.example"}, false},
		"ok/none":               {url.Values{}, nil, false},
		"fail/relative":         {url.Values{"resource": {"/pay"}}, nil, true},
		"fail/fragment":         {url.Values{"resource": {"https://a.example/#x"}}, nil, true},
		"fail/empty-fragment":   {url.Values{"resource": {"https://a.example/#"}}, nil, true},
		"fail/empty":            {url.Values{"resource": {""}}, nil, true},
		"fail/not-a-uri-at-all": {url.Values{"resource": {"%zz"}}, nil, true},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := RequestedTargets(tc.form)
			if tc.err {
				if !errors.Is(err, ErrInvalidTarget) {
					t.Fatalf("err = %v, want invalid_target", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v %v, want %v", got, err, tc.want)
			}
		})
	}
}
