package rar

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Description is one authorization details object in plain words, as the
// consent page shows it: a summary sentence and labelled lines. Nothing is
// shortened; the page wraps long values.
type Description struct {
	Summary string
	Lines   []Line
}

// Line is a labelled value of a Description.
type Line struct{ Label, Value string }

// Describe describes every object of ds for a user whose language is tag
// (money is formatted for it).
func Describe(ds Details, tag language.Tag) []Description {
	out := make([]Description, 0, len(ds))
	for _, d := range ds {
		out = append(out, describe(d, tag))
	}
	return out
}

func describe(d Detail, tag language.Tag) Description {
	if d.Type == TypePaymentInitiation {
		if p, err := paymentOf(d); err == nil {
			return describePayment(p, tag)
		}
	}
	return describeGeneric(d)
}

// describePayment: "Pay €250.00 to ACME Ltd", then the accounts and the
// reference.
func describePayment(p *Payment, tag language.Tag) Description {
	money, err := FormatMoney(tag, p.Amount, p.Currency.String())
	if err != nil { // validated already; never shown half-formatted
		money = p.Amount + " " + p.Currency.String()
	}
	desc := Description{Summary: fmt.Sprintf("Pay %s to %s", money, p.Creditor)}
	desc.Lines = append(desc.Lines, Line{"To account (IBAN)", GroupIBAN(p.CreditorIBAN)})
	if p.DebtorIBAN != "" {
		desc.Lines = append(desc.Lines, Line{"From account (IBAN)", GroupIBAN(p.DebtorIBAN)})
	}
	desc.Lines = append(desc.Lines, Line{"Reference", p.Remittance})
	return desc
}

// describeGeneric shows a registered type's object field by field (the
// server knows no words for it): every top-level field but "type", values
// as compact JSON unless they are plain strings.
func describeGeneric(d Detail) Description {
	desc := Description{Summary: "Access of type " + d.Type}
	keys := make([]string, 0, len(d.value))
	for k := range d.value {
		if k != "type" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		val := ""
		if s, ok := d.value[k].(string); ok {
			val = s
		} else {
			b, _ := json.Marshal(d.value[k])
			val = string(b)
		}
		desc.Lines = append(desc.Lines, Line{k, val})
	}
	return desc
}

// FormatMoney formats a decimal amount of an ISO 4217 currency for tag:
// the locale's digits, grouping and decimal separator (golang.org/x/text/number)
// with exactly the currency's minor units, and the currency's symbol for
// the locale (golang.org/x/text/currency) placed as the locale writes it
// (symbolAfter). amount must be a plain decimal string of at most 15
// significant digits (the payment schema's), so no digit is lost.
func FormatMoney(tag language.Tag, amount, code string) (string, error) {
	cur, err := currency.ParseISO(code)
	if err != nil {
		return "", fmt.Errorf("currency %q: %w", code, err)
	}
	f, err := strconv.ParseFloat(amount, 64)
	if err != nil || strings.ContainsAny(amount, "eE+-") {
		return "", fmt.Errorf("amount %q is not a decimal number", amount)
	}
	if digits := strings.Count(strings.TrimLeft(strings.Replace(amount, ".", "", 1), "0"), "") - 1; digits > 15 {
		return "", fmt.Errorf("amount %q has more than 15 significant digits", amount)
	}
	scale, _ := currency.Standard.Rounding(cur)
	p := message.NewPrinter(tag)
	num := p.Sprint(number.Decimal(f, number.Scale(scale)))
	sym := p.Sprint(currency.NarrowSymbol(cur))
	const nbsp = "\u00a0"
	switch {
	case symbolAfter(tag):
		return num + nbsp + sym, nil
	case symbolSpaced(tag) || strings.IndexFunc(sym, unicode.IsLetter) >= 0:
		return sym + nbsp + num, nil
	default:
		return sym + num, nil
	}
}

// symbolAfter reports whether the locale writes the currency symbol after
// the amount ("250,00 €"). golang.org/x/text has no currency patterns, so
// this follows CLDR's standard currency pattern for the languages where it
// is "#,##0.00 ¤"; every other language puts the symbol first.
func symbolAfter(tag language.Tag) bool {
	base, _ := tag.Base()
	region, _ := tag.Region()
	switch base.String() {
	case "de":
		return region.String() != "CH" && region.String() != "AT" && region.String() != "LI"
	case "pt":
		return region.String() == "PT"
	case "fr", "es", "it", "pl", "cs", "sk", "sv", "fi", "da", "nb", "no", "nn", "ru", "uk",
		"hu", "ro", "bg", "hr", "sl", "lt", "lv", "et", "el", "is", "ca":
		return true
	}
	return false
}

// symbolSpaced reports whether a leading symbol is followed by a space
// (CLDR "¤ #,##0.00": Dutch, Austrian and Swiss German, Brazilian Portuguese).
func symbolSpaced(tag language.Tag) bool {
	base, _ := tag.Base()
	region, _ := tag.Region()
	switch base.String() {
	case "nl":
		return true
	case "de":
		return region.String() == "CH" || region.String() == "AT" || region.String() == "LI"
	case "pt":
		return region.String() != "PT"
	}
	return false
}

// Locale picks the user's language from an Accept-Language header value:
// the most preferred tag that parses, English when there is none.
func Locale(acceptLanguage string) language.Tag {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return language.English
	}
	return tags[0]
}
