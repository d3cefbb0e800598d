package mtls

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DN is a distinguished name as a sequence of relative distinguished names
// in ASN.1 order (the most significant RDN, e.g. C=…, first), which is the
// reverse of the order RFC 4514 writes them in.
type DN []RDN

// RDN is one relative distinguished name: a set of attributes (usually one;
// several when written with '+').
type RDN []Attribute

// Attribute is one attribute type and value of an RDN.
type Attribute struct {
	Type asn1.ObjectIdentifier
	// Value is the attribute's string value. When the value is not a
	// string ASN.1 type, it is empty and Raw holds the BER encoding.
	Value string
	// Raw is the BER encoding of a value that is not a string, as written
	// in RFC 4514 hex form ("#0403…") or found in a certificate.
	Raw []byte
}

// attributeTypes maps the attribute type names accepted in a DN string
// (case-insensitive) to their OIDs: RFC 4514 §3, plus the ones that occur in
// client certificates (emailAddress, serialNumber, organizationIdentifier in
// eIDAS/PSD2 certificates, EV jurisdiction).
var attributeTypes = map[string]asn1.ObjectIdentifier{
	"cn":                          {2, 5, 4, 3},
	"sn":                          {2, 5, 4, 4},
	"surname":                     {2, 5, 4, 4},
	"serialnumber":                {2, 5, 4, 5},
	"c":                           {2, 5, 4, 6},
	"l":                           {2, 5, 4, 7},
	"st":                          {2, 5, 4, 8},
	"s":                           {2, 5, 4, 8},
	"street":                      {2, 5, 4, 9},
	"o":                           {2, 5, 4, 10},
	"ou":                          {2, 5, 4, 11},
	"title":                       {2, 5, 4, 12},
	"t":                           {2, 5, 4, 12},
	"businesscategory":            {2, 5, 4, 15},
	"postalcode":                  {2, 5, 4, 17},
	"givenname":                   {2, 5, 4, 42},
	"gn":                          {2, 5, 4, 42},
	"initials":                    {2, 5, 4, 43},
	"dnqualifier":                 {2, 5, 4, 46},
	"organizationidentifier":      {2, 5, 4, 97},
	"dc":                          {0, 9, 2342, 19200300, 100, 1, 25},
	"uid":                         {0, 9, 2342, 19200300, 100, 1, 1},
	"emailaddress":                {1, 2, 840, 113549, 1, 9, 1},
	"e":                           {1, 2, 840, 113549, 1, 9, 1},
	"jurisdictionc":               {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3},
	"jurisdictioncountryname":     {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3},
	"jurisdictionst":              {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 2},
	"jurisdictionstateorprovince": {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 2},
	"jurisdictionl":               {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 1},
	"jurisdictionlocalityname":    {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 1},
}

// attributeNames are the names String writes for well-known types, the
// RFC 4514 §3 ones and the usual others; any other type is written as a
// dotted OID.
var attributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "TITLE",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.42":                   "GN",
	"2.5.4.97":                   "organizationIdentifier",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
	"1.2.840.113549.1.9.1":       "emailAddress",
}

// ParseDN parses a distinguished name written as in RFC 4514 (the form
// tls_client_auth_subject_dn uses, RFC 8705 §2.1.2), e.g.
// "CN=client.example.com,O=Example Bank,C=GB". Attribute types are names
// from the table above (any case) or dotted OIDs (optionally "OID."-prefixed);
// values may use backslash escapes (`\,`, `\2C`, UTF-8 as hex pairs), the
// legacy quoted form, or the '#' hex form (BER); spaces around '=', ',' and
// '+' are ignored. The result is in ASN.1 order (reversed).
func ParseDN(s string) (DN, error) {
	p := dnParser{s: s}
	var written []RDN
	for {
		rdn, err := p.rdn()
		if err != nil {
			return nil, fmt.Errorf("%w: subject DN %q: %w", ErrInvalidRegistration, s, err)
		}
		written = append(written, rdn)
		p.skipSpaces()
		if p.eof() {
			break
		}
		if p.s[p.i] != ',' {
			return nil, fmt.Errorf("%w: subject DN %q: unexpected %q at offset %d", ErrInvalidRegistration, s, p.s[p.i], p.i)
		}
		p.i++
	}
	dn := make(DN, len(written))
	for i, rdn := range written {
		dn[len(written)-1-i] = rdn
	}
	return dn, nil
}

// String writes the DN in RFC 4514 form (reversed order), with the usual
// names for well-known attribute types and dotted OIDs for the others;
// ParseDN reads it back to an equal DN.
func (dn DN) String() string {
	var b strings.Builder
	for i := len(dn) - 1; i >= 0; i-- {
		if i != len(dn)-1 {
			b.WriteByte(',')
		}
		for j, a := range dn[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			if name, ok := attributeNames[a.Type.String()]; ok {
				b.WriteString(name)
			} else {
				b.WriteString(a.Type.String())
			}
			b.WriteByte('=')
			if a.Raw != nil {
				b.WriteByte('#')
				b.WriteString(hex.EncodeToString(a.Raw))
			} else {
				b.WriteString(escapeDNValue(a.Value))
			}
		}
	}
	return b.String()
}

func escapeDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(`"+,;<>\`, c) >= 0, c == '#' && i == 0, c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Equal reports whether two DNs are the same name: the same number of RDNs
// in the same order, each the same set of attributes (order within an RDN
// does not matter), each attribute the same type with values that match
// case-insensitively with insignificant spaces removed (RFC 4518 §2.6.1;
// every attribute type in client certificate subjects uses caseIgnoreMatch
// or caseIgnoreIA5Match). Values that are not strings match byte for byte.
func (dn DN) Equal(other DN) bool {
	if len(dn) != len(other) {
		return false
	}
	for i := range dn {
		if !dn[i].equal(other[i]) {
			return false
		}
	}
	return true
}

func (r RDN) equal(other RDN) bool {
	if len(r) != len(other) {
		return false
	}
	used := make([]bool, len(other))
next:
	for _, a := range r {
		for j, b := range other {
			if !used[j] && a.equal(b) {
				used[j] = true
				continue next
			}
		}
		return false
	}
	return true
}

func (a Attribute) equal(b Attribute) bool {
	if !a.Type.Equal(b.Type) {
		return false
	}
	if a.Raw != nil || b.Raw != nil {
		return a.Raw != nil && b.Raw != nil && bytes.Equal(a.Raw, b.Raw)
	}
	return strings.EqualFold(normalizeSpaces(a.Value), normalizeSpaces(b.Value))
}

// normalizeSpaces removes leading and trailing spaces and folds every inner
// run of spaces into one (RFC 4518 §2.6.1, insignificant space handling).
func normalizeSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// CertificateSubjectDN returns a certificate's subject in the RFC 4514 form
// tls_client_auth_subject_dn takes, so that an operator can register a
// client from its certificate.
func CertificateSubjectDN(cert *x509.Certificate) (string, error) {
	dn, err := certificateSubject(cert.RawSubject)
	if err != nil {
		return "", err
	}
	return dn.String(), nil
}

// certificateSubject parses a certificate's RawSubject into a DN, keeping
// each value's string or, for a non-string value, its BER encoding.
func certificateSubject(rawSubject []byte) (DN, error) {
	var seq []rdnSET
	rest, err := asn1.Unmarshal(rawSubject, &seq)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate subject: %w", ErrMalformedCertificate, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: certificate subject: trailing data", ErrMalformedCertificate)
	}
	dn := make(DN, 0, len(seq))
	for _, set := range seq {
		rdn := make(RDN, 0, len(set))
		for _, atv := range set {
			rdn = append(rdn, attributeFromBER(atv.Type, atv.Value.FullBytes))
		}
		dn = append(dn, rdn)
	}
	return dn, nil
}

// rdnSET and attributeTypeAndValue mirror RFC 5280's Name, keeping values
// raw; the SET suffix makes encoding/asn1 read a SET OF.
type rdnSET []attributeTypeAndValue

type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// attributeFromBER decodes a BER value into a string when it is one of
// the ASN.1 string types, and keeps the encoding otherwise.
func attributeFromBER(t asn1.ObjectIdentifier, ber []byte) Attribute {
	var s string
	if rest, err := asn1.Unmarshal(ber, &s); err == nil && len(rest) == 0 {
		return Attribute{Type: t, Value: s}
	}
	return Attribute{Type: t, Raw: append([]byte(nil), ber...)}
}

// dnParser reads an RFC 4514 string.
type dnParser struct {
	s string
	i int
}

func (p *dnParser) eof() bool { return p.i >= len(p.s) }

func (p *dnParser) skipSpaces() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *dnParser) rdn() (RDN, error) {
	var rdn RDN
	for {
		a, err := p.attribute()
		if err != nil {
			return nil, err
		}
		rdn = append(rdn, a)
		p.skipSpaces()
		if p.eof() || p.s[p.i] != '+' {
			return rdn, nil
		}
		p.i++
	}
}

func (p *dnParser) attribute() (Attribute, error) {
	p.skipSpaces()
	start := p.i
	for !p.eof() && p.s[p.i] != '=' {
		p.i++
	}
	if p.eof() {
		return Attribute{}, fmt.Errorf("attribute %q has no '='", strings.TrimSpace(p.s[start:]))
	}
	t, err := attributeType(strings.TrimSpace(p.s[start:p.i]))
	if err != nil {
		return Attribute{}, err
	}
	p.i++ // '='
	p.skipSpaces()
	switch {
	case !p.eof() && p.s[p.i] == '#':
		return p.hexValue(t)
	case !p.eof() && p.s[p.i] == '"':
		v, err := p.quotedValue()
		return Attribute{Type: t, Value: v}, err
	}
	v, err := p.stringValue()
	return Attribute{Type: t, Value: v}, err
}

func attributeType(name string) (asn1.ObjectIdentifier, error) {
	if name == "" {
		return nil, errors.New("empty attribute type")
	}
	if t, ok := attributeTypes[strings.ToLower(name)]; ok {
		return t, nil
	}
	dotted := name
	if len(dotted) > 4 && strings.EqualFold(dotted[:4], "oid.") {
		dotted = dotted[4:]
	}
	parts := strings.Split(dotted, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("unknown attribute type %q (use a dotted OID)", name)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || (len(part) > 1 && part[0] == '0') {
			return nil, fmt.Errorf("unknown attribute type %q (use a dotted OID)", name)
		}
		oid[i] = n
	}
	return oid, nil
}

// hexValue reads "#" followed by the hex BER encoding of a value.
func (p *dnParser) hexValue(t asn1.ObjectIdentifier) (Attribute, error) {
	p.i++ // '#'
	start := p.i
	for !p.eof() && isHex(p.s[p.i]) {
		p.i++
	}
	ber, err := hex.DecodeString(p.s[start:p.i])
	if err != nil || len(ber) == 0 {
		return Attribute{}, fmt.Errorf("attribute %s: bad hex value", t)
	}
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(ber, &raw); err != nil || len(rest) != 0 {
		return Attribute{}, fmt.Errorf("attribute %s: hex value is not one BER element", t)
	}
	if err := p.valueEnd(); err != nil {
		return Attribute{}, err
	}
	return attributeFromBER(t, ber), nil
}

// quotedValue reads a legacy "…" value (RFC 2253 §4) with backslash escapes.
func (p *dnParser) quotedValue() (string, error) {
	p.i++ // '"'
	var b []byte
	for {
		if p.eof() {
			return "", errors.New("unterminated quoted value")
		}
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			if !utf8.Valid(b) {
				return "", errors.New("value is not valid UTF-8")
			}
			return string(b), p.valueEnd()
		case '\\':
			d, err := p.escape()
			if err != nil {
				return "", err
			}
			b = append(b, d)
		default:
			b = append(b, c)
			p.i++
		}
	}
}

// stringValue reads an RFC 4514 string value up to an unescaped ',' or '+',
// dropping unescaped trailing spaces.
func (p *dnParser) stringValue() (string, error) {
	var b []byte
	keep := 0 // length of b up to the last byte that is not an unescaped space
	for !p.eof() {
		c := p.s[p.i]
		switch {
		case c == ',' || c == '+':
			return p.finishString(b[:keep])
		case c == '\\':
			d, err := p.escape()
			if err != nil {
				return "", err
			}
			b = append(b, d)
			keep = len(b)
		case strings.IndexByte(`";<>`, c) >= 0:
			return "", fmt.Errorf("character %q at offset %d must be escaped with a backslash", c, p.i)
		default:
			b = append(b, c)
			if c != ' ' {
				keep = len(b)
			}
			p.i++
		}
	}
	return p.finishString(b[:keep])
}

func (p *dnParser) finishString(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errors.New("value is not valid UTF-8")
	}
	return string(b), nil
}

// escape reads a backslash escape: a special character or two hex digits.
func (p *dnParser) escape() (byte, error) {
	p.i++ // '\\'
	if p.eof() {
		return 0, errors.New("dangling backslash at the end")
	}
	c := p.s[p.i]
	if isHex(c) {
		if p.i+1 >= len(p.s) || !isHex(p.s[p.i+1]) {
			return 0, fmt.Errorf("bad hex escape at offset %d", p.i-1)
		}
		v, _ := strconv.ParseUint(p.s[p.i:p.i+2], 16, 8)
		p.i += 2
		return byte(v), nil
	}
	if strings.IndexByte(` "#+,;<=>\`, c) < 0 {
		return 0, fmt.Errorf("%q cannot be escaped (offset %d)", c, p.i-1)
	}
	p.i++
	return c, nil
}

// valueEnd requires the end of a value: spaces, then ',' or '+' or the end.
func (p *dnParser) valueEnd() error {
	p.skipSpaces()
	if p.eof() || p.s[p.i] == ',' || p.s[p.i] == '+' {
		return nil
	}
	return fmt.Errorf("unexpected %q after a value at offset %d", p.s[p.i], p.i)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
