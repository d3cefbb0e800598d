# Build: a static strongroom binary, stamped with its version
# (docker build --build-arg VERSION=$(git describe --tags --always) \
#   --build-arg COMMIT=$(git rev-parse HEAD) --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
ARG BUILD_DATE=""
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X github.com/strongroom/strongroom/buildinfo.version=${VERSION} -X github.com/strongroom/strongroom/buildinfo.commit=${COMMIT} -X github.com/strongroom/strongroom/buildinfo.date=${BUILD_DATE}" \
    -o /out/strongroom ./cmd/strongroom

# Run: distroless, non-root.
#   docker run -e STRONGROOM_ISSUER=https://auth.example.com -e DATABASE_URL=... \
#     -e STRONGROOM_SECRET=... -e STRONGROOM_KEK=... -p 8080:8080 strongroom
# Every serve flag can be set as STRONGROOM_<FLAG_NAME> (see strongroom config show).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strongroom /usr/local/bin/strongroom
USER nonroot:nonroot
EXPOSE 8080 8081
# The public listener's readiness (/readyz); set STRONGROOM_HEALTHCHECK_URL
# when it listens elsewhere.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/strongroom", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/strongroom"]
# Plain HTTP behind a TLS-terminating proxy; the issuer comes from
# STRONGROOM_ISSUER (serve refuses to start without one).
CMD ["serve", "--insecure-http", "--listen", ":8080"]
