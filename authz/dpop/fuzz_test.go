package dpop_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/dpop"
)

// FuzzVerifyProof feeds arbitrary proofs to the verifier: it must never
// panic, and every refusal must be a *dpop.Error with a known code and a
// description that does not repeat the input.
//
//	go test -run '^$' -fuzz FuzzVerifyProof -fuzztime 30s ./authz/dpop/
func FuzzVerifyProof(f *testing.F) {
	valid := es256Proof(f, claims("jti"))
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		valid[:len(valid)/2],
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.",
		"a.b.c",
		"...",
		"",
		rawProofT(f, map[string]any{"crit": []string{"b64"}}),
		rawClaimsProof(f, `{"jti":"x","htm":"POST","htu":"https://as.example.com/oauth2/token","iat":1e400}`),
		rawClaimsProof(f, `{"jti":"x","htm":"POST","htu":"https://as.example.com/%zz","iat":1}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, proof string) {
		v, _ := newVerifier(t, dpop.Config{})
		p, err := v.Verify(t.Context(), request(proof))
		if err == nil {
			if p == nil || p.JKT == "" {
				t.Fatalf("accepted without a key thumbprint: %+v", p)
			}
			return
		}
		var de *dpop.Error
		if !errors.As(err, &de) {
			t.Fatalf("refusal %T %v is not a *dpop.Error", err, err)
		}
		if de.Code != dpop.CodeInvalidProof && de.Code != dpop.CodeUseNonce {
			t.Fatalf("code %q", de.Code)
		}
		if len(proof) > 16 && strings.Contains(de.Description, proof) {
			t.Fatalf("description repeats the proof")
		}
	})
}
