package rar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ory/fosite"
)

// Param is the request parameter and the token response member (RFC 9396 §2, §7).
const Param = "authorization_details"

// Limits on one authorization_details parameter. A payment is a few hundred
// bytes; the cap keeps the parameter inside a pending login flow (8 KiB
// URL-encoded) and bounds the work of validation.
const (
	MaxBytes   = 4 << 10
	MaxDetails = 8
)

// ErrInvalidAuthorizationDetails is RFC 9396 §5: the authorization details
// are malformed, of an unknown type, of a type the client may not use, or
// violate the type's schema.
var ErrInvalidAuthorizationDetails = &fosite.RFC6749Error{
	ErrorField:       "invalid_authorization_details",
	DescriptionField: "The authorization details are malformed, unknown, not allowed for this client, or exceed what was granted.",
	CodeField:        http.StatusBadRequest,
}

// invalid returns ErrInvalidAuthorizationDetails with a hint.
func invalid(format string, args ...any) *fosite.RFC6749Error {
	return ErrInvalidAuthorizationDetails.WithHintf(format, args...)
}

// Detail is one authorization details object in canonical form: its JSON
// re-encoded with sorted keys and no insignificant space, so equal details
// compare equal byte for byte (consent, narrowing).
type Detail struct {
	// Type is the object's "type" (RFC 9396 §2).
	Type  string
	value map[string]any // decoded with json.Number
	raw   []byte         // canonical JSON
}

// MarshalJSON implements json.Marshaler: the canonical JSON.
func (d Detail) MarshalJSON() ([]byte, error) { return d.raw, nil }

// Value returns the decoded object (numbers as json.Number). Callers must
// not change it.
func (d Detail) Value() map[string]any { return d.value }

// Details is an authorization_details array.
type Details []Detail

// JSON returns the canonical JSON array, nil when there are none.
func (ds Details) JSON() []byte {
	if len(ds) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d.raw)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// Types returns the distinct types in order of first appearance.
func (ds Details) Types() []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.Type] {
			seen[d.Type] = true
			out = append(out, d.Type)
		}
	}
	return out
}

// Parse parses an authorization_details value (RFC 9396 §2): a JSON array
// of 1 to MaxDetails objects, each with a non-empty string "type", at most
// MaxBytes in all, nothing after the array. It does not look at the types'
// schemas (Registry.Validate does). Refusals are invalid_authorization_details.
func Parse(raw string) (Details, error) {
	if len(raw) > MaxBytes {
		return nil, invalid("The authorization_details parameter is larger than %d bytes.", MaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var elems []json.RawMessage
	if err := dec.Decode(&elems); err != nil {
		return nil, invalid("The authorization_details parameter is not a JSON array of objects.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("The authorization_details parameter has data after the JSON array.")
	}
	if len(elems) == 0 {
		return nil, invalid("The authorization_details array is empty.")
	}
	if len(elems) > MaxDetails {
		return nil, invalid("The authorization_details array has more than %d objects.", MaxDetails)
	}
	out := make(Details, 0, len(elems))
	for i, e := range elems {
		d, err := parseDetail(e)
		if err != nil {
			return nil, invalid("authorization_details[%d]: %s", i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseJSON parses canonical details kept by the server (a session, a
// consent); nil or empty gives no details.
func ParseJSON(b []byte) (Details, error) {
	if len(b) == 0 {
		return nil, nil
	}
	ds, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("stored authorization details: %w", err)
	}
	return ds, nil
}

func parseDetail(e json.RawMessage) (Detail, error) {
	dec := json.NewDecoder(bytes.NewReader(e))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Detail{}, errors.New("not a JSON object")
	}
	typ, ok := obj["type"].(string)
	if !ok || typ == "" {
		return Detail{}, errors.New(`no string "type"`)
	}
	if len(typ) > 64 {
		return Detail{}, errors.New(`"type" is longer than 64 bytes`)
	}
	canon, err := json.Marshal(obj) // map keys sorted, numbers as written
	if err != nil {
		return Detail{}, errors.New("not canonicalizable")
	}
	return Detail{Type: typ, value: obj, raw: canon}, nil
}

// Equal reports whether a and b are the same details in the same order.
func Equal(a, b Details) bool { return bytes.Equal(a.JSON(), b.JSON()) }

// Narrow checks a request to narrow granted details (a refresh or a code
// exchange naming authorization_details, RFC 9396 §6.1, §7): every
// requested object must be one of the granted objects exactly. Anything
// else would widen the grant: invalid_authorization_details.
func Narrow(granted, requested Details) error {
	for i, r := range requested {
		found := false
		for _, g := range granted {
			if bytes.Equal(g.raw, r.raw) {
				found = true
				break
			}
		}
		if !found {
			return invalid("authorization_details[%d] was not granted; a token request may only narrow the authorization details.", i)
		}
	}
	return nil
}
