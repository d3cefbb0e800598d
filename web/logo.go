package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// MaxLogoBytes caps the operator's logo (it is inlined into every page).
const MaxLogoBytes = 64 << 10

// logoURL returns the logo as a data: URL, or "" without a logo. Only
// raster images and SVG are accepted; an SVG shown through <img> runs no
// script.
func logoURL(logo []byte) (template.URL, error) {
	if len(logo) == 0 {
		return "", nil
	}
	if len(logo) > MaxLogoBytes {
		return "", fmt.Errorf("logo is %d bytes; at most %d", len(logo), MaxLogoBytes)
	}
	ct := http.DetectContentType(logo)
	switch {
	case ct == "image/png", ct == "image/jpeg", ct == "image/gif", ct == "image/webp":
	case strings.Contains(string(logo[:min(len(logo), 1024)]), "<svg"):
		ct = "image/svg+xml"
	default:
		return "", errors.New("logo must be a PNG, JPEG, GIF, WebP or SVG image")
	}
	// The value is built here from validated bytes, never from a request.
	return template.URL("data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(logo)), nil // #nosec G203 -- the operator's logo file, type-checked, as a base64 data: URL
}
