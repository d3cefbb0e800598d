package login

import (
	"context"
	"net/http"

	"github.com/strongroom/strongroom/authz"
)

// FlowStep is where a browser flow goes next; the pages render each one
// (one dispatcher, as dex's server/authflow): steps never call one another.
type FlowStep int

// Steps of a browser flow after login started.
const (
	StepSecondFactor  FlowStep = iota + 1 // verify a second factor
	StepEnrol                             // enrol a second factor (required, none yet)
	StepRecoveryCodes                     // show the new recovery codes, then continue
	StepAskConsent                        // ask the user for consent
	StepAnswer                            // answer the client (Next.Response)
)

// Next is the domain's decision after a step of a browser flow.
type Next struct {
	Step FlowStep
	// Response is the authorization response for the client (StepAnswer).
	Response *authz.AuthorizeResponse
	// SessionCookie, when set, is the value of the browser session cookie
	// a completed login started; set it whatever comes next.
	SessionCookie string
	// RecoveryCodes are shown once (StepRecoveryCodes).
	RecoveryCodes []string
}

// Advance decides the next step of the open flow f after a login step
// whose outcome is res (nil: the login is done, e.g. after the recovery
// codes were shown): a second factor or its enrolment, the recovery codes,
// consent when needed (needsFlowConsent), else the answer to the client
// (the flow is finished in this request, with the login's user and session
// as they are). With an error, a non-nil Next may still carry the new
// session's cookie.
func (s *Service) Advance(ctx context.Context, r *http.Request, f *Flow, res *LoginResult) (*Next, error) {
	next := &Next{}
	if res != nil {
		switch res.Outcome {
		case LoginSecondFactor:
			return &Next{Step: StepSecondFactor}, nil
		case LoginEnrol:
			return &Next{Step: StepEnrol}, nil
		}
		next.SessionCookie = res.Cookie
		if len(res.RecoveryCodes) > 0 {
			next.Step, next.RecoveryCodes = StepRecoveryCodes, res.RecoveryCodes
			return next, nil
		}
	}
	need, err := s.needsFlowConsent(ctx, f)
	if err != nil {
		return next, err
	}
	if need {
		next.Step = StepAskConsent
		return next, nil
	}
	next.Step = StepAnswer
	next.Response, err = s.finish(ctx, r, f, res)
	return next, err
}
