package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseKEK(t *testing.T) {
	raw := bytes.Repeat([]byte{0xA5}, KEKSize)
	for i := range raw {
		raw[i] ^= byte(i)
	}
	short := raw[:31]
	long := append(bytes.Clone(raw), 0x01)

	tests := map[string]struct {
		in      string
		want    []byte
		wantErr string
	}{
		"ok/hex":             {in: hex.EncodeToString(raw), want: raw},
		"ok/hex-upper":       {in: strings.ToUpper(hex.EncodeToString(raw)), want: raw},
		"ok/base64-std":      {in: base64.StdEncoding.EncodeToString(raw), want: raw},
		"ok/base64-raw-url":  {in: base64.RawURLEncoding.EncodeToString(raw), want: raw},
		"ok/base64-url":      {in: base64.URLEncoding.EncodeToString(raw), want: raw},
		"ok/trailing-nl":     {in: base64.StdEncoding.EncodeToString(raw) + "\n", want: raw},
		"fail/empty":         {in: "  ", wantErr: "empty"},
		"fail/short-base64":  {in: base64.StdEncoding.EncodeToString(short), wantErr: "got 31"},
		"fail/short-hex":     {in: hex.EncodeToString(short), wantErr: "must decode to 32 bytes"},
		"fail/long-base64":   {in: base64.RawURLEncoding.EncodeToString(long), wantErr: "got 33"},
		"fail/not-encoded":   {in: "correct horse battery staple!!", wantErr: "not hex or base64"},
		"fail/passphrase-32": {in: "0123456789abcdef0123456789abcdeg", wantErr: "must decode to 32 bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseKEK(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalidKEK) {
					t.Fatalf("err = %v, want ErrInvalidKEK", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %q, want it to contain %q", err, tc.wantErr)
				}
				if in := strings.TrimSpace(tc.in); in != "" && strings.Contains(err.Error(), in) {
					t.Errorf("error echoes the value: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKEK: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("ParseKEK = %x, want %x", got, tc.want)
			}
		})
	}
}

func TestGenerateKEK(t *testing.T) {
	a, err := GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two generated KEKs are equal")
	}
	k, err := ParseKEK(a)
	if err != nil {
		t.Fatalf("ParseKEK(GenerateKEK()): %v", err)
	}
	if len(k) != KEKSize {
		t.Fatalf("len = %d", len(k))
	}
}

func TestSealOpen(t *testing.T) {
	kek := testKEK(t)
	plaintext := []byte("pkcs8 der bytes would go here")
	aead, err := newAEAD(kek)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(aead, "kid-1", plaintext)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}

	tests := map[string]struct {
		kek        []byte
		kid        string
		ciphertext []byte
		wantErr    error
	}{
		"ok/round-trip":          {kek: kek, kid: "kid-1", ciphertext: sealed},
		"fail/wrong-kek":         {kek: testKEK(t), kid: "kid-1", ciphertext: sealed, wantErr: ErrDecrypt},
		"fail/other-kid":         {kek: kek, kid: "kid-2", ciphertext: sealed, wantErr: ErrDecrypt},
		"fail/tampered-nonce":    {kek: kek, kid: "kid-1", ciphertext: flip(0), wantErr: ErrDecrypt},
		"fail/tampered-body":     {kek: kek, kid: "kid-1", ciphertext: flip(aead.NonceSize() + 3), wantErr: ErrDecrypt},
		"fail/tampered-tag":      {kek: kek, kid: "kid-1", ciphertext: flip(len(sealed) - 1), wantErr: ErrDecrypt},
		"fail/truncated":         {kek: kek, kid: "kid-1", ciphertext: sealed[:10], wantErr: ErrDecrypt},
		"fail/empty-ciphertext":  {kek: kek, kid: "kid-1", ciphertext: nil, wantErr: ErrDecrypt},
		"fail/wrong-length-kek":  {kek: kek[:16], kid: "kid-1", ciphertext: sealed, wantErr: ErrInvalidKEK},
		"fail/missing-bytes-end": {kek: kek, kid: "kid-1", ciphertext: sealed[:len(sealed)-1], wantErr: ErrDecrypt},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := newAEAD(tc.kek)
			if err != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("newAEAD: %v, want %v", err, tc.wantErr)
				}
				return
			}
			got, err := open(a, tc.kid, tc.ciphertext)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("open: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Fatalf("open = %q", got)
			}
		})
	}

	t.Run("ok/fresh-nonce-each-time", func(t *testing.T) {
		again, err := seal(aead, "kid-1", plaintext)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(again[:aead.NonceSize()], sealed[:aead.NonceSize()]) {
			t.Fatal("nonce reused")
		}
	})
}

func testKEK(t testing.TB) []byte {
	t.Helper()
	s, err := GenerateKEK()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKEK(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
