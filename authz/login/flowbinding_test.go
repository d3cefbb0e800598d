package login

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz"
)

// testBinding is the flow-binding cookie of the browser that starts test flows.
const testBinding = "browser-one-flow-binding-cookie"

// TestFlowRefusesAnotherBrowserWithoutConsumingIt: a flow's challenge is
// useless without the flow-binding cookie of the browser that started it,
// at every step (reading the flow for login, second factor and consent,
// finishing and denying it), and a refused attempt leaves the flow for the
// browser it belongs to.
func TestFlowRefusesAnotherBrowserWithoutConsumingIt(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	if _, err := f.p.startFlow(ctx, authorizeRequest(f.client, url.Values{"response_type": {"code"}}), nil, ""); err == nil {
		t.Fatal("a flow was started without a binding")
	}
	ch, err := f.p.startFlow(ctx, authorizeRequest(f.client, url.Values{"response_type": {"code"}, "scope": {"openid"}}), nil, testBinding)
	must(t, err)
	flow, _, err := f.p.loadFlow(ctx, ch, testBinding)
	must(t, err)
	if flow.Binding == "" || strings.Contains(flow.Binding, testBinding) {
		t.Fatalf("stored binding %q: empty or the cookie itself", flow.Binding)
	}
	r := httptest.NewRequest(http.MethodPost, "/consent", nil)
	for _, other := range []string{"", "browser-two", testBinding + "x", strings.Repeat("b", 129)} {
		if _, _, err := f.p.loadFlow(ctx, ch, other); !errors.Is(err, ErrFlowOtherBrowser) {
			t.Errorf("Flow with binding %q: %v", other, err)
		}
		if resp, err := f.p.finishFlow(ctx, r, ch, other); !errors.Is(err, ErrFlowOtherBrowser) || resp != nil {
			t.Errorf("FinishFlow with binding %q: %v, answered %+v", other, err, resp)
		}
		if _, err := f.p.denyFlow(ctx, r, ch, other); !errors.Is(err, ErrFlowOtherBrowser) {
			t.Errorf("DenyFlow with binding %q: %v", other, err)
		}
	}
	// still there for its own browser, which can end it once
	if _, _, err := f.p.loadFlow(ctx, ch, testBinding); err != nil {
		t.Fatalf("the flow did not survive another browser's attempts: %v", err)
	}
	// answered: a response for the client, or the error page (this test
	// client's redirect URI cannot be used), never a flow error
	resp, err := f.p.denyFlow(ctx, r, ch, testBinding)
	var page *authz.UnredirectableError
	if resp == nil && !errors.As(err, &page) {
		t.Fatalf("DenyFlow by the flow's own browser: %v", err)
	}
	if _, _, err := f.p.loadFlow(ctx, ch, testBinding); !errors.Is(err, ErrFlowNotFound) {
		t.Fatalf("flow after deny: %v", err)
	}
}
