// Package tracing builds Strongroom's OpenTelemetry tracer provider: spans
// exported over OTLP/HTTP when an endpoint is configured (serve
// --otlp-endpoint, or the standard OTEL_EXPORTER_OTLP_ENDPOINT /
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables), none otherwise. Nothing is
// installed globally: the composition root hands the provider to the HTTP
// middleware, the token service and the database driver (HTTP → authz →
// SQL spans of one trace).
//
// Never here: a span attribute that holds a secret. SQL spans carry the
// statement, never its arguments (token signatures, hashes); HTTP spans the
// path, never the query string or a header's value.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Standard OpenTelemetry variables that turn the exporter on without the flag.
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
)

// Options configure Setup.
type Options struct {
	// Endpoint is the OTLP/HTTP base URL of the collector (e.g.
	// http://otel-collector:4318): spans are posted to Endpoint/v1/traces,
	// as with OTEL_EXPORTER_OTLP_ENDPOINT. "" reads the standard variables;
	// none set means tracing is off.
	Endpoint string
	// ServiceName and ServiceVersion describe the process in every span's
	// resource (service.name defaults to "strongroom"; OTEL_SERVICE_NAME
	// and OTEL_RESOURCE_ATTRIBUTES are honoured too).
	ServiceName, ServiceVersion string
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Sync exports every span as it ends instead of in batches: for tests.
	Sync bool
}

// Provider is the tracer provider and what the server needs beside it.
type Provider struct {
	trace.TracerProvider
	// Propagator reads and writes the W3C traceparent and baggage headers.
	Propagator propagation.TextMapPropagator
	// Endpoint is where spans go ("" when tracing is off), for the start log.
	Endpoint string
	sdk      *sdktrace.TracerProvider
}

// Enabled reports whether spans are exported.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// ForceFlush exports the spans that have ended and not yet been sent.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// Shutdown flushes and stops the exporter (at most 5 s); a no-op when
// tracing is off.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.sdk.Shutdown(ctx)
}

// Disabled is a provider that records nothing.
func Disabled() *Provider {
	return &Provider{TracerProvider: noop.NewTracerProvider(), Propagator: propagation.TraceContext{}}
}

// Setup returns the tracer provider opts describe: an OTLP/HTTP exporter
// when an endpoint is set, else Disabled. OTEL_SDK_DISABLED=true turns it
// off whatever else is set. The exporter connects lazily: a collector that
// is down loses spans (logged by the SDK), never requests.
func Setup(ctx context.Context, opts Options) (*Provider, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if strings.EqualFold(getenv(EnvSDKDisabled), "true") {
		return Disabled(), nil
	}
	var expOpts []otlptracehttp.Option
	endpoint := opts.Endpoint
	switch {
	case endpoint != "":
		u, err := ParseEndpoint(endpoint)
		if err != nil {
			return nil, err
		}
		expOpts = append(expOpts, otlptracehttp.WithEndpointURL(u))
		endpoint = u
	case getenv(EnvTracesEndpoint) != "":
		endpoint = getenv(EnvTracesEndpoint) // the exporter reads the variables itself
	case getenv(EnvEndpoint) != "":
		endpoint = getenv(EnvEndpoint)
	default:
		return Disabled(), nil
	}
	exp, err := otlptracehttp.New(ctx, expOpts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	name := opts.ServiceName
	if name == "" {
		name = "strongroom"
	}
	res, err := resource.Merge(
		resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(opts.ServiceVersion)),
		resource.Environment(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
	)
	if err != nil {
		res = resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name))
	}
	var span sdktrace.SpanProcessor = sdktrace.NewBatchSpanProcessor(exp)
	if opts.Sync {
		span = sdktrace.NewSimpleSpanProcessor(exp)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(span),
		sdktrace.WithResource(res),
		// no sampler given: the SDK's default keeps the caller's decision
		// (parent-based, always on otherwise) and honours OTEL_TRACES_SAMPLER
	)
	return &Provider{
		TracerProvider: tp,
		Propagator:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		Endpoint:       redactURL(endpoint),
		sdk:            tp,
	}, nil
}

// ParseEndpoint checks a collector base URL (http or https, a host, no
// query or fragment) and returns the URL spans are posted to: its path
// plus /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT means.
func ParseEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("tracing: the OTLP endpoint is not a URL")
	case u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "":
		return "", errors.New("tracing: the OTLP endpoint must be an http or https URL with a host, e.g. http://otel-collector:4318")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("tracing: the OTLP endpoint must have no query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
	return u.String(), nil
}

// redactURL drops user info (a password) from an endpoint for the logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}
