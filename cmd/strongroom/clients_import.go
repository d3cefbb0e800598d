package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

// Import outcomes of one client in a per-client import (--upsert or
// --skip-existing).
const (
	importCreated = "created"
	importUpdated = "updated"
	importSkipped = "skipped"
	importFailed  = "failed"
)

// importReportRow is the outcome of one client of a per-client import, or
// of any Hydra import (which also lists the Hydra fields left out).
type importReportRow struct {
	// Index is the client's position in the file, from 1.
	Index      int    `json:"index"`
	ClientID   string `json:"client_id,omitempty"`
	ClientName string `json:"client_name,omitempty"`
	// Result is created, updated, skipped or failed.
	Result string `json:"result"`
	// Reason says why a client failed or was skipped.
	Reason string `json:"reason,omitempty"`
	// Secret is a generated secret, shown only this once.
	Secret *authzadmin.IssuedSecret `json:"secret,omitempty"`
	// Unsupported names the fields of the source file that were not
	// imported (a Hydra export's fields Strongroom has no equivalent for).
	Unsupported []string `json:"unsupported_fields,omitempty"`
}

// importEach imports specs one by one: an existing client_id is updated
// (upsert) or left alone (skip), a new one is created; one client's failure
// does not stop the others. Each outcome is reported.
func importEach(ctx context.Context, b adminBackend, specs []registration.ClientSpec, upsert bool) []importReportRow {
	rows := make([]importReportRow, 0, len(specs))
	for i, spec := range specs {
		row := importReportRow{Index: i + 1, ClientID: spec.ClientID, ClientName: spec.ClientName}
		exists := false
		if spec.ClientID != "" {
			_, err := b.GetClient(ctx, spec.ClientID)
			switch {
			case err == nil:
				exists = true
			case !errors.Is(err, authzadmin.ErrNotFound):
				row.Result, row.Reason = importFailed, err.Error()
				rows = append(rows, row)
				continue
			}
		}
		switch {
		case exists && !upsert:
			row.Result, row.Reason = importSkipped, "client_id already exists"
		case exists:
			var patch []byte
			current, err := b.ExportClients(ctx, []string{spec.ClientID})
			if err == nil {
				patch, err = specPatch(spec, current)
			}
			if err == nil {
				_, err = b.UpdateClient(ctx, spec.ClientID, patch)
			}
			if err != nil {
				row.Result, row.Reason = importFailed, oneLine(err)
			} else {
				row.Result = importUpdated
			}
		default:
			res, err := b.ImportClients(ctx, []registration.ClientSpec{spec}, nil)
			switch {
			case err != nil:
				row.Result, row.Reason = importFailed, oneLine(err)
			case len(res) != 1:
				row.Result, row.Reason = importFailed, fmt.Sprintf("the server reported %d clients for one", len(res))
			default:
				row.Result, row.ClientID, row.Secret = importCreated, res[0].ClientID, res[0].Secret
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// specPatch is the update patch that makes an existing client's
// registration (current, its export) spec's: every field of spec except
// its id, secret and disabled state (update leaves secrets to
// rotate-secret and the state to disable/enable), and every field the
// current registration sets but spec leaves out reset to its zero value.
func specPatch(spec registration.ClientSpec, current []registration.ClientSpec) ([]byte, error) {
	spec.ClientID, spec.ClientSecret, spec.Disabled = "", "", false
	m, err := specFields(spec)
	if err != nil {
		return nil, err
	}
	for _, c := range current {
		old, err := specFields(c)
		if err != nil {
			return nil, err
		}
		for k, v := range old {
			if _, ok := m[k]; !ok {
				m[k] = zeroJSON(v)
				if d, ok := specDefaults[k]; ok {
					m[k] = d
				}
			}
		}
		// Send only what changes: update refuses some fields (the auth
		// method) even when unchanged values would be harmless.
		for k, v := range m {
			if cur, ok := old[k]; ok && bytes.Equal(bytes.TrimSpace(cur), bytes.TrimSpace(v)) {
				delete(m, k)
			}
		}
	}
	for _, k := range []string{"client_id", "client_secret", "disabled"} {
		delete(m, k)
	}
	return json.Marshal(m)
}

// specDefaults are the values of fields whose zero value is not valid in
// an update: a field the file leaves out gets its default instead.
var specDefaults = map[string]json.RawMessage{"access_token_format": json.RawMessage(`"opaque"`)}

// specFields is spec's JSON object, field by field.
func specFields(spec registration.ClientSpec) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(spec) // #nosec G117 -- callers clear the client_secret or pass an export, which has none
	if err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	return m, nil
}

// zeroJSON is the zero value of v's JSON type: false, 0, "", [] or null.
func zeroJSON(v json.RawMessage) json.RawMessage {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return json.RawMessage("null")
	case t[0] == 't' || t[0] == 'f':
		return json.RawMessage("false")
	case t[0] == '"':
		return json.RawMessage(`""`)
	case t[0] == '[':
		return json.RawMessage("[]")
	case t[0] == '-' || (t[0] >= '0' && t[0] <= '9'):
		return json.RawMessage("0")
	}
	return json.RawMessage("null")
}

// oneLine joins a multi-line error (a validation error lists every
// problem) for a report cell.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// hydraMapped are the Hydra client fields that have a Strongroom
// equivalent with the same RFC 7591 / OIDC name and meaning.
var hydraMapped = map[string]bool{
	"client_id": true, "client_name": true, "redirect_uris": true, "grant_types": true,
	"response_types": true, "scope": true, "audience": true, "token_endpoint_auth_method": true,
	"token_endpoint_auth_signing_alg": true, "jwks": true, "jwks_uri": true,
	"post_logout_redirect_uris": true, "backchannel_logout_uri": true,
	"backchannel_logout_session_required": true, "contacts": true, "client_uri": true,
	"logo_uri": true, "policy_uri": true, "tos_uri": true, "skip_consent": true,
	"request_object_signing_alg": true, "access_token_strategy": true,
}

// hydraBookkeeping are fields of a Hydra export that describe Hydra's copy
// of the client, not its registration: dropped without a report.
var hydraBookkeeping = map[string]bool{
	"created_at": true, "updated_at": true, "client_secret_expires_at": true,
	"registration_access_token": true, "registration_client_uri": true,
}

// readHydraClients converts the output of `hydra list clients --format
// json` (an array of Hydra clients, or one) into specs. A field without a
// Strongroom equivalent is not fatal: it is named in the client's row of
// unsupported fields. Hydra never exports secrets, so secret-based clients
// get new generated secrets on import.
func readHydraClients(data []byte) ([]registration.ClientSpec, [][]string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil, errors.New("empty document")
	}
	var objs []map[string]json.RawMessage
	if data[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		objs = append(objs, one)
	} else if err := json.Unmarshal(data, &objs); err != nil {
		return nil, nil, fmt.Errorf("not a Hydra client list (a JSON array of clients): %w", err)
	}
	specs := make([]registration.ClientSpec, 0, len(objs))
	unsupported := make([][]string, 0, len(objs))
	for i, obj := range objs {
		keep := map[string]json.RawMessage{}
		var skipped []string
		for _, k := range sortedKeys(obj) {
			v := obj[k]
			switch {
			case hydraBookkeeping[k] || isEmptyJSON(v):
			case hydraMapped[k]:
				keep[k] = v
			default:
				skipped = append(skipped, k)
			}
		}
		if v, ok := keep["access_token_strategy"]; ok {
			delete(keep, "access_token_strategy")
			var s string
			if json.Unmarshal(v, &s) == nil && s == "jwt" {
				keep["access_token_format"] = json.RawMessage(`"jwt"`)
			}
		}
		if v, ok := keep["jwks"]; ok {
			var set struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if json.Unmarshal(v, &set) == nil && len(set.Keys) == 0 {
				delete(keep, "jwks") // Hydra writes {} or {"keys":[]} for none
			}
		}
		raw, err := json.Marshal(keep)
		if err != nil {
			return nil, nil, fmt.Errorf("client %d: %w", i+1, err)
		}
		var spec registration.ClientSpec
		if err := spec.MergePatch(raw); err != nil {
			return nil, nil, fmt.Errorf("client %d: %w", i+1, err)
		}
		sort.Strings(skipped)
		specs = append(specs, spec)
		unsupported = append(unsupported, skipped)
	}
	return specs, unsupported, nil
}

// isEmptyJSON reports whether v is null, "", false, 0, [] or {}.
func isEmptyJSON(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "null", `""`, "false", "0", "[]", "{}":
		return true
	}
	return false
}
