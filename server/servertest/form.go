package servertest

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FormFields returns the named input fields (with their values) of an HTML
// page, as a browser would submit them: the login, second-factor and
// consent pages' hidden challenge and CSRF fields included.
func FormFields(tb testing.TB, page string) url.Values {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		tb.Fatalf("parse page: %v", err)
	}
	v := url.Values{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name != "" {
				v.Set(name, value)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return v
}
