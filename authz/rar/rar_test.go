package rar_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"golang.org/x/text/language"

	"github.com/strongroom/strongroom/authz/rar"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
)

// payment is a valid payment_initiation object with the amount and
// creditor given.
func payment(amount, currency, creditor string) string {
	return `{"type":"payment_initiation","instructedAmount":{"amount":"` + amount + `","currency":"` + currency + `"},` +
		`"creditorName":"` + creditor + `","creditorAccount":{"iban":"DE89370400440532013000"},` +
		`"remittanceInformationUnstructured":"Invoice 42"}`
}

func newRegistry(t *testing.T) (*rar.Registry, storage.Store) {
	t.Helper()
	store := memory.New()
	t.Cleanup(store.Close)
	reg, err := rar.NewRegistry(store)
	if err != nil {
		t.Fatal(err)
	}
	return reg, store
}

func wantInvalid(t *testing.T, err error, hint string) {
	t.Helper()
	if !errors.Is(err, rar.ErrInvalidAuthorizationDetails) {
		t.Fatalf("error %v, want invalid_authorization_details", err)
	}
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) || rfc.CodeField != 400 || rfc.ErrorField != "invalid_authorization_details" {
		t.Fatalf("error %#v, want 400 invalid_authorization_details", err)
	}
	if !strings.Contains(rfc.HintField, hint) {
		t.Fatalf("hint %q, want it to mention %q", rfc.HintField, hint)
	}
}

func TestAuthorizationDetailsMalformedRefused(t *testing.T) {
	big := "[" + strings.Repeat(" ", rar.MaxBytes) + payment("1.00", "EUR", "A") + "]"
	many := "[" + strings.Repeat(payment("1.00", "EUR", "A")+",", rar.MaxDetails) + payment("1.00", "EUR", "A") + "]"
	for name, tc := range map[string]struct{ raw, hint string }{
		"fail/not-json":       {`[{"type":`, "not a JSON array"},
		"fail/object":         {payment("1.00", "EUR", "A"), "not a JSON array"},
		"fail/empty":          {`[]`, "empty"},
		"fail/trailing-data":  {`[{"type":"x"}] [1]`, "after the JSON array"},
		"fail/element-string": {`["payment_initiation"]`, "not a JSON object"},
		"fail/element-null":   {`[null]`, "not a JSON object"},
		"fail/no-type":        {`[{"actions":["read"]}]`, `no string "type"`},
		"fail/type-number":    {`[{"type":7}]`, `no string "type"`},
		"fail/too-large":      {big, "larger than"},
		"fail/too-many":       {many, "more than"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := rar.Parse(tc.raw)
			wantInvalid(t, err, tc.hint)
		})
	}
}

func TestAuthorizationDetailsCanonicalForm(t *testing.T) {
	a, err := rar.Parse(`[ {"type":"payment_initiation", "b": 1.50, "a": {"y":2,"x":1}} ]`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rar.Parse(`[{"a":{"x":1,"y":2},"b":1.50,"type":"payment_initiation"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(a.JSON()), `[{"a":{"x":1,"y":2},"b":1.50,"type":"payment_initiation"}]`; got != want {
		t.Fatalf("canonical JSON %s, want %s (sorted keys, numbers as written)", got, want)
	}
	if !rar.Equal(a, b) {
		t.Fatal("the same details written differently are not equal")
	}
	c, _ := rar.Parse(`[{"a":{"x":1,"y":2},"b":1.5,"type":"payment_initiation"}]`)
	if rar.Equal(a, c) {
		t.Fatal("1.50 and 1.5 compare equal: an amount written differently must be asked again")
	}
}

func TestAuthorizationDetailsValidation(t *testing.T) {
	reg, store := newRegistry(t)
	ctx := context.Background()
	err := store.CreateAuthorizationType(ctx, &storage.AuthorizationType{
		Type:      "account_information",
		Schema:    []byte(`{"type":"object","required":["type","accounts"],"properties":{"accounts":{"type":"array","items":{"type":"string"},"minItems":1}}}`),
		CreatedAt: time.Now(), UpdatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"payment_initiation", "account_information", "ghost_type"}
	wrap := func(objs ...string) string { return "[" + strings.Join(objs, ",") + "]" }
	for name, tc := range map[string]struct {
		allowed []string
		raw     string
		hint    string // "" = accepted
	}{
		"ok/payment":                   {all, wrap(payment("250.00", "EUR", "ACME Ltd")), ""},
		"ok/payment-with-debtor":       {all, wrap(strings.Replace(payment("250.00", "EUR", "ACME Ltd"), `"type"`, `"debtorAccount":{"iban":"GB82WEST12345698765432"},"type"`, 1)), ""},
		"ok/payment-yen-no-decimals":   {all, wrap(payment("25000", "JPY", "Tanaka")), ""},
		"ok/registered-type":           {all, wrap(`{"type":"account_information","accounts":["a1"]}`), ""},
		"ok/two-types":                 {all, wrap(payment("1.00", "EUR", "A"), `{"type":"account_information","accounts":["a1"]}`), ""},
		"fail/client-not-allowed":      {[]string{"account_information"}, wrap(payment("1.00", "EUR", "A")), "may not request the type"},
		"fail/client-allows-none":      {nil, wrap(payment("1.00", "EUR", "A")), "may not request the type"},
		"fail/unknown-type":            {all, wrap(`{"type":"ghost_type"}`), "is unknown"},
		"fail/registered-schema":       {all, wrap(`{"type":"account_information","accounts":[]}`), "does not meet the schema"},
		"fail/missing-creditor":        {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), `"creditorName":"A",`, "", 1)), "does not meet the schema"},
		"fail/extra-field":             {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), `"type"`, `"beneficiary":"x","type"`, 1)), "does not meet the schema"},
		"fail/amount-number":           {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), `"1.00"`, `1.00`, 1)), "does not meet the schema"},
		"fail/amount-negative":         {all, wrap(payment("-1.00", "EUR", "A")), "does not meet the schema"},
		"fail/amount-exponent":         {all, wrap(payment("1e3", "EUR", "A")), "does not meet the schema"},
		"fail/amount-zero":             {all, wrap(payment("0.00", "EUR", "A")), "must be positive"},
		"fail/amount-too-many-decimal": {all, wrap(payment("1.005", "EUR", "A")), "has 3 decimals; EUR has 2"},
		"fail/yen-with-cents":          {all, wrap(payment("100.50", "JPY", "A")), "JPY has 0"},
		"fail/unknown-currency":        {all, wrap(payment("1.00", "XQQ", "A")), "not an ISO 4217 currency"},
		"fail/lowercase-currency":      {all, wrap(payment("1.00", "eur", "A")), "does not meet the schema"},
		"fail/iban-checksum":           {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), "DE89370400440532013000", "DE89370400440532013001", 1)), "not a valid IBAN"},
		"fail/debtor-iban-checksum":    {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), `"type"`, `"debtorAccount":{"iban":"GB82WEST12345698765431"},"type"`, 1)), "debtorAccount.iban"},
		"fail/iban-with-spaces":        {all, wrap(strings.Replace(payment("1.00", "EUR", "A"), "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", 1)), "does not meet the schema"},
		"fail/creditor-too-long":       {all, wrap(payment("1.00", "EUR", strings.Repeat("A", 141))), "does not meet the schema"},
		"fail/second-object-bad":       {all, wrap(payment("1.00", "EUR", "A"), `{"type":"account_information"}`), "authorization_details[1]"},
	} {
		t.Run(name, func(t *testing.T) {
			ds, err := reg.Validate(ctx, tc.allowed, tc.raw)
			if tc.hint == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(ds) == 0 {
					t.Fatal("no details returned")
				}
				return
			}
			wantInvalid(t, err, tc.hint)
		})
	}
}

func TestAuthorizationDetailsSchemaChangeTakesEffect(t *testing.T) {
	reg, store := newRegistry(t)
	ctx := context.Background()
	at := &storage.AuthorizationType{Type: "t1", Schema: []byte(`{"type":"object","properties":{"n":{"maximum":5}}}`)}
	if err := store.CreateAuthorizationType(ctx, at); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Validate(ctx, []string{"t1"}, `[{"type":"t1","n":4}]`); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteAuthorizationType(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	_, err := reg.Validate(ctx, []string{"t1"}, `[{"type":"t1","n":4}]`)
	wantInvalid(t, err, "is unknown")
	at.Schema = []byte(`{"type":"object","properties":{"n":{"maximum":3}}}`)
	if err := store.CreateAuthorizationType(ctx, at); err != nil {
		t.Fatal(err)
	}
	_, err = reg.Validate(ctx, []string{"t1"}, `[{"type":"t1","n":4}]`)
	wantInvalid(t, err, "does not meet the schema")
}

func TestAuthorizationTypeSchemaNeverLoadsReferences(t *testing.T) {
	for name, schema := range map[string]string{
		"file":  `{"$ref":"file:///etc/passwd"}`,
		"https": `{"$ref":"https://example.com/schema.json"}`,
	} {
		t.Run("fail/"+name, func(t *testing.T) {
			if _, err := rar.CompileSchema([]byte(schema)); err == nil {
				t.Fatal("a schema referring outside itself compiled")
			}
		})
	}
	for name, schema := range map[string]string{"fail/not-json": `{`, "fail/not-object": `[1]`, "fail/bad-keyword": `{"type":"objekt"}`} {
		t.Run(name, func(t *testing.T) {
			if _, err := rar.CompileSchema([]byte(schema)); err == nil {
				t.Fatal("compiled")
			}
		})
	}
	if _, err := rar.CompileSchema([]byte(`{"$defs":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a"}}}`)); err != nil {
		t.Fatalf("a self-contained schema: %v", err)
	}
}

func TestAuthorizationDetailsNarrowOnly(t *testing.T) {
	granted, _ := rar.Parse("[" + payment("1.00", "EUR", "A") + "," + payment("2.00", "EUR", "B") + "]")
	sub, _ := rar.Parse("[" + payment("2.00", "EUR", "B") + "]")
	if err := rar.Narrow(granted, sub); err != nil {
		t.Fatalf("a subset: %v", err)
	}
	if err := rar.Narrow(granted, granted); err != nil {
		t.Fatalf("the whole grant: %v", err)
	}
	wider, _ := rar.Parse("[" + payment("2.01", "EUR", "B") + "]")
	wantInvalid(t, rar.Narrow(granted, wider), "only narrow")
	wantInvalid(t, rar.Narrow(nil, sub), "only narrow")
}

func TestIBANChecksum(t *testing.T) {
	for _, ok := range []string{"DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300", "CH9300762011623852957"} {
		if !rar.ValidIBAN(ok) {
			t.Errorf("%s refused", ok)
		}
	}
	for _, bad := range []string{"DE89370400440532013001", "DE88370400440532013000", "GB82WEST1234569876543", "de89370400440532013000", "DE8937040044053201300X0", "", "DE89", "XX00000000000000000"} {
		if rar.ValidIBAN(bad) {
			t.Errorf("%s accepted", bad)
		}
	}
	if got := rar.GroupIBAN("DE89370400440532013000"); got != "DE89 3704 0044 0532 0130 00" {
		t.Errorf("grouped %q", got)
	}
}

func TestMoneyFormattedForLocale(t *testing.T) {
	const nb = "\u00a0"
	for _, tc := range []struct {
		locale, amount, currency, want string
	}{
		{"en-GB", "250.00", "EUR", "€250.00"},
		{"en-US", "1234567.5", "USD", "$1,234,567.50"},
		{"en", "250", "EUR", "€250.00"},
		{"de-DE", "250.00", "EUR", "250,00" + nb + "€"},
		{"de", "1234567.89", "EUR", "1.234.567,89" + nb + "€"},
		{"fr-FR", "1234.5", "EUR", "1" + nb + "234,50" + nb + "€"},
		{"nl-NL", "250.00", "EUR", "€" + nb + "250,00"},
		{"de-CH", "1234.5", "CHF", "CHF" + nb + "1’234.50"},
		{"ja-JP", "25000", "JPY", "￥25,000"}, // CLDR: the full-width yen sign in Japanese
		{"en-GB", "25000", "JPY", "¥25,000"},
		{"en-GB", "99.99", "GBP", "£99.99"},
		{"en", "999999999999.999", "BHD", "BHD" + nb + "999,999,999,999.999"},
	} {
		t.Run(tc.locale+"/"+tc.currency, func(t *testing.T) {
			got, err := rar.FormatMoney(language.MustParse(tc.locale), tc.amount, tc.currency)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("FormatMoney = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range [][2]string{{"1e3", "EUR"}, {"abc", "EUR"}, {"1.00", "XQQ"}, {"1234567890123456", "EUR"}} {
		if got, err := rar.FormatMoney(language.English, bad[0], bad[1]); err == nil {
			t.Errorf("FormatMoney(%q, %q) = %q, want an error", bad[0], bad[1], got)
		}
	}
}

func TestPaymentDescribedInPlainWords(t *testing.T) {
	long := "ACME Holdings International Payments and Settlements Services for Very Long Creditor Names Ltd"
	raw := "[" + strings.Replace(payment("250.00", "EUR", long), `"type"`, `"debtorAccount":{"iban":"GB82WEST12345698765432"},"type"`, 1) + "]"
	ds, err := rar.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := rar.Describe(ds, language.MustParse("en-GB"))
	if len(d) != 1 {
		t.Fatalf("%d descriptions", len(d))
	}
	if want := "Pay €250.00 to " + long; d[0].Summary != want {
		t.Fatalf("summary %q, want %q (nothing cut)", d[0].Summary, want)
	}
	want := []rar.Line{{"To account (IBAN)", "DE89 3704 0044 0532 0130 00"}, {"From account (IBAN)", "GB82 WEST 1234 5698 7654 32"}, {"Reference", "Invoice 42"}}
	if len(d[0].Lines) != len(want) {
		t.Fatalf("lines %v, want %v", d[0].Lines, want)
	}
	for i := range want {
		if d[0].Lines[i] != want[i] {
			t.Errorf("line %d %v, want %v", i, d[0].Lines[i], want[i])
		}
	}
	if de := rar.Describe(ds, language.German); de[0].Summary != "Pay 250,00\u00a0€ to "+long {
		t.Errorf("German summary %q", de[0].Summary)
	}
	gen, _ := rar.Parse(`[{"type":"account_information","accounts":["a1","a2"],"note":"read"}]`)
	g := rar.Describe(gen, language.English)[0]
	if g.Summary != "Access of type account_information" || len(g.Lines) != 2 || g.Lines[0] != (rar.Line{"accounts", `["a1","a2"]`}) || g.Lines[1] != (rar.Line{"note", "read"}) {
		t.Errorf("generic description %+v", g)
	}
}

func TestLocaleFromAcceptLanguage(t *testing.T) {
	for in, want := range map[string]string{"de-DE,de;q=0.9,en;q=0.5": "de-DE", "": "en", "fr;q=0.2, ja": "ja", "!!": "en"} {
		if got := rar.Locale(in).String(); got != want {
			t.Errorf("Locale(%q) = %s, want %s", in, got, want)
		}
	}
}
