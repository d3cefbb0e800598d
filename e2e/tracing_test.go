package e2e

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/tracing"
)

// otlpCollector is a fake OpenTelemetry collector: it takes OTLP/HTTP
// protobuf exports at /v1/traces and keeps their spans with their scope.
type otlpCollector struct {
	mu    sync.Mutex
	spans []collected
}

type collected struct {
	scope string
	span  *tracepb.Span
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected export "+r.URL.Path, http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, collected{scope: ss.GetScope().GetName(), span: s})
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *otlpCollector) all() []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]collected(nil), c.spans...)
}

// TestTracesSpanHTTPAuthzSQL: with an OTLP endpoint configured, a token
// request yields one trace, continued from the caller's traceparent: the
// HTTP server span named by its route pattern, the token service's
// oauth.Token span under it, and the SQL spans of the database driver
// under that; a login likewise gives POST /login → login.Password → SQL.
// No span attribute holds a client secret, the user's password, the token
// issued or its signature, and SQL spans carry statements without their
// arguments.
func TestTracesSpanHTTPAuthzSQL(t *testing.T) {
	col := &otlpCollector{}
	collector := httptest.NewServer(col)
	t.Cleanup(collector.Close)
	tp, err := tracing.Setup(context.Background(), tracing.Options{Endpoint: collector.URL, Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	if !tp.Enabled() {
		t.Fatal("tracing not enabled by an endpoint")
	}
	e := startWith(t, func(c *server.Config) { c.Tracing = tp })
	c := &storage.Client{Name: "traced", GrantTypes: []string{"client_credentials"}, Scopes: []string{"payments"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque}
	secret := e.createClient(c)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest(http.MethodPost, e.issuer+authz.PathToken,
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	req.SetBasicAuth(c.ID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tokenBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, tokenBody)
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := col.all()
	byID := map[string]collected{}
	var inTrace []collected
	for _, s := range spans {
		byID[hex.EncodeToString(s.span.GetSpanId())] = s
		if hex.EncodeToString(s.span.GetTraceId()) == traceID {
			inTrace = append(inTrace, s)
		}
	}
	find := func(name string) *tracepb.Span {
		for _, s := range inTrace {
			if s.span.GetName() == name {
				return s.span
			}
		}
		return nil
	}
	httpSpan, authzSpan := find("POST "+authz.PathToken), find("oauth.Token")
	if httpSpan == nil || authzSpan == nil {
		var names []string
		for _, s := range inTrace {
			names = append(names, s.span.GetName())
		}
		t.Fatalf("trace %s has spans %q; want the HTTP and oauth.Token spans (of %d spans exported)", traceID, names, len(spans))
	}
	if got := hex.EncodeToString(httpSpan.GetParentSpanId()); got != parentID {
		t.Errorf("HTTP span's parent %s, want the caller's %s", got, parentID)
	}
	if httpSpan.GetKind() != tracepb.Span_SPAN_KIND_SERVER || attr(httpSpan, "http.route") != authz.PathToken {
		t.Errorf("HTTP span kind %v route %q", httpSpan.GetKind(), attr(httpSpan, "http.route"))
	}
	if hex.EncodeToString(authzSpan.GetParentSpanId()) != hex.EncodeToString(httpSpan.GetSpanId()) {
		t.Error("oauth.Token is not a child of the HTTP span")
	}
	if attr(authzSpan, "oauth.client_id") != c.ID || attr(authzSpan, "oauth.grant_type") != "client_credentials" {
		t.Errorf("oauth.Token attributes %v", authzSpan.GetAttributes())
	}
	// SQL spans below oauth.Token (directly or through the driver's own spans)
	under := func(s *tracepb.Span, ancestor []byte) bool {
		for p := s.GetParentSpanId(); len(p) > 0; {
			if string(p) == string(ancestor) {
				return true
			}
			parent, ok := byID[hex.EncodeToString(p)]
			if !ok {
				return false
			}
			p = parent.span.GetParentSpanId()
		}
		return false
	}
	sqlSpans := 0
	for _, s := range inTrace {
		if s.scope == "github.com/exaring/otelpgx" && under(s.span, authzSpan.GetSpanId()) {
			sqlSpans++
		}
	}
	if sqlSpans == 0 {
		t.Fatal("no SQL span under oauth.Token")
	}

	// the login step: POST /login → login.Password → SQL, in a trace of its own
	web := webClient("authorization_code")
	webSecret := e.createClient(web)
	e.codeFlowTokens(t, web, webSecret, true)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans = col.all()
	for _, s := range spans {
		byID[hex.EncodeToString(s.span.GetSpanId())] = s
	}
	var loginSpan *tracepb.Span
	for _, s := range spans {
		if s.span.GetName() == "login.Password" {
			loginSpan = s.span
		}
	}
	if loginSpan == nil {
		t.Fatal("no login.Password span")
	}
	if parent, ok := byID[hex.EncodeToString(loginSpan.GetParentSpanId())]; !ok || parent.span.GetName() != "POST /login" {
		t.Fatalf("login.Password's parent is not the POST /login span")
	}
	loginSQL := 0
	for _, s := range spans {
		if s.scope == "github.com/exaring/otelpgx" && under(s.span, loginSpan.GetSpanId()) {
			loginSQL++
		}
	}
	if loginSQL == 0 {
		t.Fatal("no SQL span under login.Password")
	}

	// nothing secret in any span
	access := ""
	if i := strings.Index(string(tokenBody), `"access_token":"`); i >= 0 {
		access, _, _ = strings.Cut(string(tokenBody)[i+len(`"access_token":"`):], `"`)
	}
	if access == "" {
		t.Fatalf("no access token in %s", tokenBody)
	}
	sig := access[strings.LastIndex(access, ".")+1:] // the HMAC signature, what the database stores
	for _, s := range spans {
		for _, kv := range s.span.GetAttributes() {
			v := anyValue(kv.GetValue())
			for what, secretValue := range map[string]string{"client secret": secret, "access token": access, "token signature": sig,
				"user's password": testPassword, "second client's secret": webSecret} {
				if strings.Contains(v, secretValue) {
					t.Errorf("span %q attribute %s holds the %s", s.span.GetName(), kv.GetKey(), what)
				}
			}
			if strings.HasPrefix(kv.GetKey(), "db.") && strings.Contains(kv.GetKey(), "arg") {
				t.Errorf("span %q records query arguments (%s)", s.span.GetName(), kv.GetKey())
			}
		}
	}
}

// attr is the string attribute key of s ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return anyValue(kv.GetValue())
		}
	}
	return ""
}

func anyValue(v *commonpb.AnyValue) string {
	if sv, ok := v.GetValue().(*commonpb.AnyValue_StringValue); ok {
		return sv.StringValue
	}
	return v.String()
}
