package dpop_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/storage/memory"
)

// How a token endpoint uses the package: check the proof, answer
// use_dpop_nonce or invalid_dpop_proof, and bind the token to the key.
func Example_tokenEndpoint() {
	store := memory.New() // in production the PostgreSQL store, or redisreplay
	nonces, err := dpop.NewHMACNonces([]byte("a server secret of at least 32 bytes!"), time.Minute)
	if err != nil {
		panic(err)
	}
	verifier, err := dpop.NewVerifier(dpop.Config{
		ReplayCache: dpop.NewStoreReplayCache(store),
		Nonces:      nonces,
	})
	if err != nil {
		panic(err)
	}

	handler := func(w http.ResponseWriter, r *http.Request) {
		req, err := dpop.NewRequest(r, "https://as.example.com")
		if err == nil {
			req.RequireNonce = true // e.g. for FAPI 2.0 clients
			var proof *dpop.Proof
			proof, err = verifier.Verify(r.Context(), req)
			if err == nil {
				// Issue the token with cnf and token_type DPoP.
				claims := map[string]any{"cnf": dpop.NewConfirmation(proof.JKT)}
				w.Header().Set(dpop.NonceHeaderName, verifier.Nonce())
				_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "DPoP", "claims": claims})
				return
			}
		}
		var de *dpop.Error
		if errors.As(err, &de) {
			if de.Nonce != "" {
				w.Header().Set(dpop.NonceHeaderName, de.Nonce)
			}
			status := http.StatusBadRequest
			if de.ServerFault() {
				status = http.StatusServiceUnavailable
			}
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": de.Code, "error_description": de.Description})
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", handler)
}
