package rar

import (
	_ "embed"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/text/currency"
)

// TypePaymentInitiation is the built-in authorization details type of a
// single credit transfer.
const TypePaymentInitiation = "payment_initiation"

//go:embed payment_initiation.schema.json
var paymentInitiationSchema []byte

// Payment is a payment_initiation object that passed its schema.
type Payment struct {
	Amount       string // decimal string, e.g. "250.00"
	Currency     currency.Unit
	Creditor     string
	CreditorIBAN string
	DebtorIBAN   string // "" when the debtor account is not fixed
	Remittance   string
}

// paymentOf reads a schema-valid payment_initiation object and makes the
// checks a schema cannot: both IBANs' check digits (ISO 13616 mod 97), the
// currency is an ISO 4217 currency, and the amount is positive with no more
// decimals than the currency's minor units.
func paymentOf(d Detail) (*Payment, error) {
	v := d.value
	amt, _ := v["instructedAmount"].(map[string]any)
	p := &Payment{}
	p.Amount, _ = amt["amount"].(string)
	code, _ := amt["currency"].(string)
	cur, err := currency.ParseISO(code)
	if err != nil {
		return nil, fmt.Errorf("%q is not an ISO 4217 currency", code)
	}
	p.Currency = cur
	scale, _ := currency.Standard.Rounding(cur)
	intPart, frac, _ := strings.Cut(p.Amount, ".")
	if len(frac) > scale {
		return nil, fmt.Errorf("the amount has %d decimals; %s has %d", len(frac), code, scale)
	}
	if strings.Trim(intPart+frac, "0") == "" {
		return nil, errors.New("the amount must be positive")
	}
	p.Creditor, _ = v["creditorName"].(string)
	p.Remittance, _ = v["remittanceInformationUnstructured"].(string)
	if p.CreditorIBAN, err = ibanOf(v, "creditorAccount"); err != nil {
		return nil, err
	}
	if p.DebtorIBAN, err = ibanOf(v, "debtorAccount"); err != nil {
		return nil, err
	}
	return p, nil
}

func ibanOf(v map[string]any, field string) (string, error) {
	acct, ok := v[field].(map[string]any)
	if !ok {
		return "", nil
	}
	iban, _ := acct["iban"].(string)
	if !ValidIBAN(iban) {
		return "", fmt.Errorf("%s.iban is not a valid IBAN (check digits)", field)
	}
	return iban, nil
}

// ValidIBAN reports whether s is an IBAN in electronic format (no spaces,
// upper case) whose check digits are right (ISO 13616-1: the number with
// its first four characters moved to the end, letters as 10–35, is 1
// modulo 97).
func ValidIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	for i, c := range s {
		switch {
		case i < 2 && c >= 'A' && c <= 'Z':
		case i >= 2 && i < 4 && c >= '0' && c <= '9':
		case i >= 4 && (c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'):
		default:
			return false
		}
	}
	var digits strings.Builder
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// GroupIBAN writes an IBAN in the paper format: groups of four.
func GroupIBAN(iban string) string {
	var b strings.Builder
	for i, c := range iban {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
