package dpop

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxURILen bounds an htu claim and a request URI before they are parsed.
const maxURILen = 4096

// NormalizeHTU returns the form of an http or https URI that DPoP compares:
// the query and fragment dropped (RFC 9449 §4.3 point 9), then RFC 3986
// syntax-based normalisation (§6.2.2: scheme and host lower-cased,
// percent-encodings upper-cased and those of unreserved characters decoded,
// dot segments removed) and scheme-based normalisation (§6.2.3: the default
// port and an empty port dropped, an empty path made "/").
// A URI with user information, without a host, or of another scheme is an
// error.
func NormalizeHTU(raw string) (string, error) {
	if len(raw) > maxURILen {
		return "", fmt.Errorf("uri longer than %d bytes", maxURILen)
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("uri does not parse") // url errors quote the input
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", errors.New("uri scheme is not http or https")
	}
	if u.Opaque != "" || u.Host == "" {
		return "", errors.New("uri has no authority")
	}
	if u.User != nil {
		return "", errors.New("uri carries user information")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if host == "" {
		return "", errors.New("uri has an empty host")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	path, err := normalizePercent(u.EscapedPath())
	if err != nil {
		return "", err
	}
	path = removeDotSegments(path)
	if path == "" {
		path = "/"
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out + path, nil
}

// normalizePercent upper-cases the hex digits of every percent-encoding and
// decodes those that encode an unreserved character (RFC 3986 §6.2.2.1-2).
func normalizePercent(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", errors.New("uri has a malformed percent-encoding")
		}
		v := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(v) {
			b.WriteByte(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(upper(s[i+1]))
			b.WriteByte(upper(s[i+2]))
		}
		i += 2
	}
	return b.String(), nil
}

// removeDotSegments is the algorithm of RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	var out []string // output segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := strings.IndexByte(in[start:], '/')
			if end < 0 {
				end = len(in)
			} else {
				end += start
			}
			out = append(out, in[:end])
			in = in[end:]
		}
	}
	return strings.Join(out, "")
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
