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

.PHONY: run test build vet bench bench-load clean

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

# Go benchmarks: token endpoint throughput beside a bare pgx INSERT floor.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./bench/

clean:
	rm -rf bin
