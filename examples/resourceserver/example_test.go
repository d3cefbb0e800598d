package resourceserver_test

import (
	"context"
	"log"
	"net/http"

	"github.com/strongroom/strongroom/examples/resourceserver"
)

// ExampleRequire protects one route of an API with JWT access tokens.
func ExampleRequire() {
	checker, err := resourceserver.NewJWTChecker(context.Background(), "https://login.example.com", "payments-api")
	if err != nil {
		log.Fatal(err)
	}
	paymentsHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + resourceserver.FromContext(r.Context()).ClientID))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /payments", resourceserver.Require(checker, "payments", paymentsHandler))
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", mux))
}
