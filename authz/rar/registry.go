package rar

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/strongroom/strongroom/storage"
)

// TypeStore is the part of storage.Store the registry reads.
type TypeStore interface {
	GetAuthorizationType(ctx context.Context, typ string) (*storage.AuthorizationType, error)
	ListAuthorizationTypes(ctx context.Context) ([]storage.AuthorizationType, error)
}

// Registry validates authorization details against their types: the
// built-in ones (payment_initiation) and those registered in storage
// (`strongroom authorization-types add`). Compiled schemas are cached by
// type and schema digest, so a changed schema takes effect at once on every
// node (each request reads the type's row).
type Registry struct {
	store   TypeStore
	builtin map[string]*jsonschema.Schema

	mu    sync.Mutex
	cache map[string]*jsonschema.Schema // type + "\x00" + sha256(schema)
}

// maxCached bounds the compiled-schema cache; past it the cache starts over.
const maxCached = 256

// NewRegistry returns the registry over store.
func NewRegistry(store TypeStore) (*Registry, error) {
	pay, err := CompileSchema(paymentInitiationSchema)
	if err != nil {
		return nil, fmt.Errorf("built-in %s schema: %w", TypePaymentInitiation, err)
	}
	return &Registry{
		store:   store,
		builtin: map[string]*jsonschema.Schema{TypePaymentInitiation: pay},
		cache:   map[string]*jsonschema.Schema{},
	}, nil
}

// BuiltinTypes returns the types every deployment accepts.
func BuiltinTypes() []string { return []string{TypePaymentInitiation} }

// IsBuiltin reports whether typ is a built-in type (it cannot be registered
// or removed).
func IsBuiltin(typ string) bool { return slices.Contains(BuiltinTypes(), typ) }

// BuiltinSchema returns the JSON Schema of a built-in type, or nil.
func BuiltinSchema(typ string) []byte {
	if typ == TypePaymentInitiation {
		return slices.Clone(paymentInitiationSchema)
	}
	return nil
}

// Types returns every accepted type, built-in and registered, sorted
// (discovery: authorization_details_types_supported).
func (r *Registry) Types(ctx context.Context) ([]string, error) {
	stored, err := r.store.ListAuthorizationTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list authorization types: %w", err)
	}
	out := BuiltinTypes()
	for _, t := range stored {
		if !slices.Contains(out, t.Type) {
			out = append(out, t.Type)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Validate parses raw (Parse) and checks every object: its type is one the
// client may request (allowed, the client's registration) and one the
// deployment accepts, and the object meets the type's schema (and, for
// payment_initiation, the checks a schema cannot make: IBAN checksums, an
// ISO 4217 currency and its minor units). Refusals are
// invalid_authorization_details; a storage failure is returned wrapped as
// it is.
func (r *Registry) Validate(ctx context.Context, allowed []string, raw string) (Details, error) {
	ds, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if !slices.Contains(allowed, d.Type) {
			return nil, invalid("authorization_details[%d]: the client may not request the type %q.", i, d.Type)
		}
		sch, err := r.schema(ctx, d.Type)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, invalid("authorization_details[%d]: the type %q is unknown.", i, d.Type)
			}
			return nil, err
		}
		// the schema library takes json.Number values as they are
		if err := sch.Validate(d.value); err != nil {
			return nil, invalid("authorization_details[%d] does not meet the schema of %q: %s", i, d.Type, schemaError(err))
		}
		if d.Type == TypePaymentInitiation {
			if _, err := paymentOf(d); err != nil {
				return nil, invalid("authorization_details[%d]: %s", i, err)
			}
		}
	}
	return ds, nil
}

// schema returns the compiled schema of typ; ErrNotFound for an unknown type.
func (r *Registry) schema(ctx context.Context, typ string) (*jsonschema.Schema, error) {
	if s, ok := r.builtin[typ]; ok {
		return s, nil
	}
	t, err := r.store.GetAuthorizationType(ctx, typ)
	if err != nil {
		return nil, fmt.Errorf("authorization type %q: %w", typ, err)
	}
	sum := sha256.Sum256(t.Schema)
	key := typ + "\x00" + string(sum[:])
	r.mu.Lock()
	s, ok := r.cache[key]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err = CompileSchema(t.Schema)
	if err != nil {
		// registration compiles it, so this is a stored schema gone bad
		return nil, fmt.Errorf("authorization type %q: stored schema: %w", typ, err)
	}
	r.mu.Lock()
	if len(r.cache) >= maxCached {
		r.cache = map[string]*jsonschema.Schema{}
	}
	r.cache[key] = s
	r.mu.Unlock()
	return s, nil
}

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless it
// says otherwise). Formats are asserted. No reference is ever loaded from a
// file or the network: a schema must be self-contained.
func CompileSchema(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("schema is not a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no file:// or http(s):// loading
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	const loc = "urn:strongroom:authorization-type"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return s, nil
}

// schemaError is a one-line, bounded description of a validation failure
// (where in the object, and what): the error's leaf causes.
func schemaError(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return "invalid"
	}
	out := ve.BasicOutput()
	var parts []string
	for _, u := range out.Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		if strings.HasPrefix(msg, "validation failed") {
			continue
		}
		loc := u.InstanceLocation
		if loc == "" {
			loc = "/"
		}
		parts = append(parts, loc+": "+msg)
		if len(parts) == 3 {
			break
		}
	}
	s := strings.Join(parts, "; ")
	if s == "" {
		s = "invalid"
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
