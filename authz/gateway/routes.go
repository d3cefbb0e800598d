package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Routes are what the APIs behind the gateway require of a token, per
// route (serve --gateway-routes FILE, YAML):
//
//	# every token must name one of these in aud (RFC 9068 §4); omit: any aud
//	audience: [https://api.example.com]
//	# requests matching no route: deny (default, 403) or token (any valid token)
//	default: deny
//	routes:
//	  - path: /accounts/           # path prefix
//	    methods: [GET, HEAD]       # omit: every method
//	    scopes: [accounts:read]    # all of them required
//	  - path: /payments/
//	    methods: [POST]
//	    scopes: [payments:write]
//
// The route of a request is the one with the longest matching path prefix
// among those listing its method. A prefix matches whole path segments:
// "/accounts" matches /accounts and /accounts/1, never /accountsX.
type Routes struct {
	// Audience, when not empty, is the audiences a token must name (one of
	// them) at every route.
	Audience []string
	// DefaultAllow admits any valid token at a request that matches no
	// route (default: token); false denies it (default: deny).
	DefaultAllow bool
	// Routes in the order of the file.
	Routes []Route
}

// Route is one entry of the routes file.
type Route struct {
	// Path is the path prefix (absolute, clean).
	Path string `yaml:"path"`
	// Methods are the HTTP methods of the route; empty: every method.
	Methods []string `yaml:"methods"`
	// Scopes are the scopes a token must have been granted, all of them.
	Scopes []string `yaml:"scopes"`
}

// routesFile is the YAML document.
type routesFile struct {
	Audience []string `yaml:"audience"`
	Default  string   `yaml:"default"`
	Routes   []struct {
		Route                     `yaml:",inline"`
		AuthorizationDetailsTypes []string `yaml:"authorization_details_types"`
	} `yaml:"routes"`
}

// maxRoutesFileBytes bounds the routes file.
const maxRoutesFileBytes = 1 << 20

// LoadRoutes reads and parses the routes file.
func LoadRoutes(file string) (*Routes, error) {
	f, err := os.Open(file) // #nosec G304 -- the operator names the file (serve --gateway-routes)
	if err != nil {
		return nil, fmt.Errorf("gateway routes: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRoutesFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gateway routes %s: %w", file, err)
	}
	if len(data) > maxRoutesFileBytes {
		return nil, fmt.Errorf("gateway routes %s: larger than %d bytes", file, maxRoutesFileBytes)
	}
	rs, err := ParseRoutes(data)
	if err != nil {
		return nil, fmt.Errorf("gateway routes %s: %w", file, err)
	}
	return rs, nil
}

// ParseRoutes parses a routes document (see Routes). Unknown keys, a
// path that is not absolute and clean, a method that is not upper-case,
// an empty scope and a repeated route are refused, every problem at once.
// authorization_details_types (RFC 9396) is refused too: Strongroom does
// not issue authorization_details yet, so such a route could never admit
// a token.
func ParseRoutes(data []byte) (*Routes, error) {
	var doc routesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not a routes document: %w", err)
	}
	rs := &Routes{Audience: doc.Audience}
	var problems []error
	switch doc.Default {
	case "", "deny":
	case "token":
		rs.DefaultAllow = true
	default:
		problems = append(problems, fmt.Errorf("default %q: must be deny or token", doc.Default))
	}
	for _, a := range doc.Audience {
		if strings.TrimSpace(a) == "" {
			problems = append(problems, errors.New("audience: an empty value"))
		}
	}
	seen := map[string]bool{}
	for i, r := range doc.Routes {
		where := fmt.Sprintf("routes[%d] (%s)", i, r.Path)
		if len(r.AuthorizationDetailsTypes) > 0 {
			problems = append(problems, fmt.Errorf("%s: authorization_details_types are not supported: this server issues no authorization_details (RFC 9396) yet", where))
		}
		if !validPrefix(r.Path) {
			problems = append(problems, fmt.Errorf("%s: path must be an absolute, clean path prefix such as /accounts/", where))
		}
		for _, m := range r.Methods {
			if !validMethod(m) || m != strings.ToUpper(m) {
				problems = append(problems, fmt.Errorf("%s: method %q must be an upper-case HTTP method", where, m))
			}
		}
		for _, s := range r.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
				problems = append(problems, fmt.Errorf("%s: scope %q is not a scope token", where, s))
			}
		}
		methods := slices.Clone(r.Methods)
		slices.Sort(methods)
		key := r.Path + " " + strings.Join(methods, ",")
		if seen[key] {
			problems = append(problems, fmt.Errorf("%s: the same path and methods as an earlier route", where))
		}
		seen[key] = true
		rs.Routes = append(rs.Routes, r.Route)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return rs, nil
}

// validPrefix reports whether p is an absolute, clean path (a trailing
// slash allowed).
func validPrefix(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%\\") {
		return false
	}
	return path.Clean(p) == strings.TrimSuffix(p, "/") || p == "/"
}

// validMethod reports whether m is an HTTP method token (RFC 9110 §9.1).
func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for _, c := range []byte(m) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Match returns the route of a request with method to the canonical path
// p (CanonicalPath): the longest path prefix among the routes that list
// the method (or none); nil when none matches.
func (rs *Routes) Match(method, p string) *Route {
	var best *Route
	for i := range rs.Routes {
		r := &rs.Routes[i]
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
			continue
		}
		if !prefixMatches(r.Path, p) {
			continue
		}
		if best == nil || len(r.Path) > len(best.Path) {
			best = r
		}
	}
	return best
}

// prefixMatches reports whether prefix covers p by whole segments.
func prefixMatches(prefix, p string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(p, prefix) || p == strings.TrimSuffix(prefix, "/")
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// ErrBadPath is a request path the gateway refuses to route: it does not
// parse, or hides a separator or a control character in a
// percent-encoding, which an API behind the gateway might decode into a
// path no route was written for.
var ErrBadPath = errors.New("gateway: request path cannot be routed")

// CanonicalPath is the path routes are matched against: escapedPath
// percent-decoded, dot segments and repeated slashes removed (as nginx
// and most frameworks resolve them before routing), a trailing slash kept.
// An encoded "/" or "\", a backslash, a NUL or another control character
// is ErrBadPath, as is a path that is not absolute.
func CanonicalPath(escapedPath string) (string, error) {
	if !strings.HasPrefix(escapedPath, "/") || len(escapedPath) > 8<<10 {
		return "", ErrBadPath
	}
	lower := strings.ToLower(escapedPath)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return "", ErrBadPath
	}
	p, err := url.PathUnescape(escapedPath)
	if err != nil {
		return "", ErrBadPath
	}
	for _, c := range []byte(p) {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", ErrBadPath
		}
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}
