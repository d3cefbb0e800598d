# Strongroom — the two commands a newcomer needs:
#   make run    dev server on http://127.0.0.1:8080 (in-memory store, no database needed)
#   make test   unit, storage conformance (real PostgreSQL) and end-to-end tests

GO ?= go
# Test databases are created (and dropped) on this server, one per test run.
STRONGROOM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export STRONGROOM_TEST_DATABASE_URL

# Stamped into the binary by `make build` (strongroom version, start-up log).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
BUILDINFO := github.com/strongroom/strongroom/buildinfo
LDFLAGS := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT) -X $(BUILDINFO).date=$(BUILD_DATE)

.PHONY: run test build vet fuzz lint staticcheck gosec govulncheck bench bench-go bench-smoke bench-load clean

# Extra serve flags: make run ARGS="--listen 127.0.0.1:9090 --dev-seed dev-seed.yaml"
ARGS ?=
run:
	$(GO) run ./cmd/strongroom serve --dev $(ARGS)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/strongroom ./cmd/strongroom

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test: vet
	$(GO) test -race -count=1 -timeout 10m ./...
	@$(MAKE) --no-print-directory fuzz

# A short run of every fuzz target (go test -fuzz takes one target at a
# time); each also runs its committed corpus (testdata/fuzz/) in `go test`.
# A finding is written to that package's testdata/fuzz/ and fails the run.
# Longer: make fuzz FUZZTIME=5m
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	./api:FuzzFormAndDuplicateParameters \
	./authz/oauth/clientauth:FuzzClientAuthenticationHeaders \
	./authz/oauth/clientauth:FuzzClientAssertion \
	./authz/dpop:FuzzVerifyProof \
	./authz/mtls:FuzzParseCertificateHeader \
	./authz/mtls:FuzzParseDN \
	./authz/gateway:FuzzCanonicalPath

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# Static analysis, each tool pinned and fetched through the Go module proxy:
# staticcheck and gosec must be clean (a justified //nolint:gosec or
# #nosec names its reason). govulncheck needs the vulnerability database at
# vuln.go.dev: it runs when that is reachable and says so when it is not
# (this build machine reaches only the module proxy).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOSEC ?= $(GO) run github.com/securego/gosec/v2/cmd/gosec@v2.30.0
GOVULNCHECK ?= $(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0

lint: staticcheck gosec govulncheck

staticcheck:
	$(STATICCHECK) ./...

gosec:
	$(GOSEC) -quiet ./...

govulncheck:
	@if curl -fsS -m 10 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then \
		$(GOVULNCHECK) ./...; \
	else \
		echo "govulncheck NOT RUN: the vulnerability database (vuln.go.dev) is unreachable from this machine"; \
	fi

# Load benchmark (bench/cmd/srbench, < 10 min): Strongroom on a fresh
# database beside node-oidc-provider 9 (bench/node, needs node + npm; skipped
# and said so without them), floors measured in the same run, one table of
# rates, p99, ratios and % of floor; results in bench/results/latest.json,
# plots in docs/bench/. More points or another server:
#   make bench BENCH_ARGS="-conns 1,4,16,64,128 -duration 10s"
#   make bench BENCH_ARGS="-target-issuer https://as.example -target-client-id ID -target-client-secret S"
BENCH_ARGS ?=
bench:
	$(GO) run ./bench/cmd/srbench $(BENCH_ARGS)

# Go benchmarks: token endpoint throughput beside a bare pgx INSERT floor.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./bench/

# srbench end to end in seconds (1 s per point, 2 connections, no node).
bench-smoke:
	STRONGROOM_BENCH_SMOKE=1 $(GO) test -count=1 -run TestSmoke ./bench/cmd/srbench/

clean:
	rm -rf bin
