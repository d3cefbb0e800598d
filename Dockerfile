# Build: a static strongroom binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/strongroom ./cmd/strongroom

# Run: distroless, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strongroom /usr/local/bin/strongroom
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/strongroom"]
CMD ["serve", "--insecure-http", "--listen", ":8080"]
