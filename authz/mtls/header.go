package mtls

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// MaxCertificateHeaderLen bounds the header a proxy sends: a client
// certificate and a few intermediates, URL-escaped PEM, fit comfortably; a
// larger value is refused before any decoding.
const MaxCertificateHeaderLen = 32 << 10

// MaxChainLen bounds how many certificates (the client's and the
// intermediates it sent along) are read from a connection or a header, so
// that chain building stays cheap.
const MaxChainLen = 6

// ParseCertificateHeader reads the client certificate a TLS-terminating
// proxy forwarded in a header, in any of the formats real proxies send:
//
//   - URL-escaped PEM: nginx $ssl_client_escaped_cert, AWS ALB
//     X-Amzn-Mtls-Clientcert ('+', '/' and '=' may be left unescaped);
//   - PEM whose line breaks became spaces or tabs: Apache
//     "%{SSL_CLIENT_CERT}s", nginx's deprecated $ssl_client_cert
//     (continuation lines start with a tab), HAProxy and Envoy variants that
//     flatten PEM; literal "\n" sequences are accepted too;
//   - base64 DER: HAProxy %[ssl_c_der,base64]; Traefik's
//     X-Forwarded-Tls-Client-Cert (URL-escaped, several certificates
//     separated by commas);
//   - RFC 9440 Client-Cert: a structured-field byte sequence, ":base64 DER:";
//   - Envoy x-forwarded-client-cert (XFCC) with a Cert or Chain key (URL-escaped
//     PEM). An XFCC value with several elements (one per proxy hop) is
//     refused: which hop saw the client cannot be told, so Envoy must be set
//     to SANITIZE_SET for this header.
//
// The first certificate is the client's; any that follow are intermediates
// it sent along (used for chain building, never trusted by themselves). An
// empty value is ErrNoCertificate; anything unreadable is
// ErrMalformedCertificate with the reason.
func ParseCertificateHeader(value string) (*ClientCertificate, error) {
	if len(value) > MaxCertificateHeaderLen {
		return nil, fmt.Errorf("%w: certificate header of %d bytes exceeds the limit of %d", ErrMalformedCertificate, len(value), MaxCertificateHeaderLen)
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, fmt.Errorf("%w: the certificate header is empty", ErrNoCertificate)
	}
	if isXFCC(v) {
		cert, err := xfccCertificate(v)
		if err != nil {
			return nil, err
		}
		v = cert
	}
	if len(v) >= 2 && v[0] == ':' && v[len(v)-1] == ':' { // RFC 9440 §2.2
		v = v[1 : len(v)-1]
	}
	if strings.Contains(v, "%") {
		unescaped, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: the certificate header is not valid URL escaping: %w", ErrMalformedCertificate, err)
		}
		v = strings.TrimSpace(unescaped)
	}
	var ders [][]byte
	var err error
	if strings.Contains(v, "-----BEGIN") {
		ders, err = decodeLenientPEM(v)
	} else {
		ders, err = decodeBase64List(v)
	}
	if err != nil {
		return nil, err
	}
	return parseChain(ders, "header")
}

// parseChain parses DER certificates, the client's first.
func parseChain(ders [][]byte, source string) (*ClientCertificate, error) {
	if len(ders) == 0 {
		return nil, fmt.Errorf("%w: no certificate in the %s", ErrNoCertificate, source)
	}
	if len(ders) > MaxChainLen {
		return nil, fmt.Errorf("%w: %d certificates in the %s, at most %d are accepted", ErrMalformedCertificate, len(ders), source, MaxChainLen)
	}
	certs := make([]*x509.Certificate, 0, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d in the %s is not an X.509 certificate: %w", ErrMalformedCertificate, i+1, source, err)
		}
		certs = append(certs, c)
	}
	return &ClientCertificate{Leaf: certs[0], Intermediates: certs[1:], Source: source}, nil
}

const (
	pemBegin = "-----BEGIN CERTIFICATE-----"
	pemEnd   = "-----END CERTIFICATE-----"
)

// decodeLenientPEM reads CERTIFICATE blocks whose line breaks may have been
// replaced by spaces or tabs or written as a literal "\n": the base64 body
// between the markers is read with every such separator removed (none of
// them is in the base64 alphabet). Anything but whitespace outside the
// blocks, or a block of another type, is an error.
func decodeLenientPEM(s string) ([][]byte, error) {
	s = strings.ReplaceAll(s, `\n`, "\n")
	var ders [][]byte
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return ders, nil
		}
		if !strings.HasPrefix(s, pemBegin) {
			if strings.HasPrefix(s, "-----BEGIN") {
				return nil, fmt.Errorf("%w: the certificate header holds a PEM block that is not a CERTIFICATE", ErrMalformedCertificate)
			}
			return nil, fmt.Errorf("%w: unexpected text in the certificate header outside the PEM blocks", ErrMalformedCertificate)
		}
		s = s[len(pemBegin):]
		end := strings.Index(s, pemEnd)
		if end < 0 {
			return nil, fmt.Errorf("%w: the PEM certificate in the header has no END line", ErrMalformedCertificate)
		}
		der, err := decodeBase64(s[:end])
		if err != nil {
			return nil, fmt.Errorf("%w: the PEM certificate in the header is not base64: %w", ErrMalformedCertificate, err)
		}
		ders = append(ders, der)
		s = s[end+len(pemEnd):]
	}
}

// decodeBase64List reads one or more base64 DER certificates separated by
// commas (Traefik sends the chain that way).
func decodeBase64List(s string) ([][]byte, error) {
	var ders [][]byte
	for part := range strings.SplitSeq(s, ",") {
		der, err := decodeBase64(part)
		if err != nil {
			return nil, fmt.Errorf("%w: the certificate header is neither PEM nor base64 DER: %w", ErrMalformedCertificate, err)
		}
		ders = append(ders, der)
	}
	return ders, nil
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, after
// removing every space, tab and line break.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, fmt.Errorf("empty value")
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.Strict().DecodeString(s)
}

// isXFCC reports whether v starts like an Envoy x-forwarded-client-cert
// element ("Key=…" with a known key); no other format has '=' that early.
func isXFCC(v string) bool {
	i := strings.IndexByte(v, '=')
	if i <= 0 {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v[:i])) {
	case "by", "hash", "cert", "chain", "subject", "uri", "dns": // Envoy's keys
		return true
	}
	return false
}

// xfccCertificate returns the (still URL-escaped) PEM of the Cert key of a
// single-element XFCC value, or of its Chain key when Cert is absent.
func xfccCertificate(v string) (string, error) {
	elements, err := splitQuoted(v, ',')
	if err != nil {
		return "", err
	}
	if len(elements) != 1 {
		return "", fmt.Errorf("%w: x-forwarded-client-cert holds %d elements (one per proxy hop); configure the proxy to set it, not append to it", ErrMalformedCertificate, len(elements))
	}
	pairs, err := splitQuoted(elements[0], ';')
	if err != nil {
		return "", err
	}
	var cert, chain string
	for _, p := range pairs {
		key, value, ok := strings.Cut(p, "=")
		if !ok {
			return "", fmt.Errorf("%w: x-forwarded-client-cert pair without '='", ErrMalformedCertificate)
		}
		value = unquote(strings.TrimSpace(value))
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "cert":
			cert = value
		case "chain":
			chain = value
		}
	}
	switch {
	case cert != "":
		return cert, nil
	case chain != "":
		return chain, nil
	}
	return "", fmt.Errorf("%w: x-forwarded-client-cert carries no Cert; configure the proxy to forward the certificate itself", ErrMalformedCertificate)
}

// splitQuoted splits s at sep outside double quotes (a backslash escapes
// the next character inside quotes).
func splitQuoted(s string, sep byte) ([]string, error) {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if quoted {
		return nil, fmt.Errorf("%w: x-forwarded-client-cert has an unterminated quoted value", ErrMalformedCertificate)
	}
	return append(parts, s[start:]), nil
}

// unquote strips the double quotes around an XFCC value and its backslash
// escapes; an unquoted value is returned as it is.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
