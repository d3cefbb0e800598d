package admin

import "fmt"

// CheckPhoneNumber validates an OpenID Connect phone_number (Core §5.1) as
// Strongroom stores it: E.164, a '+' then 8 to 15 digits, no spaces or
// other separators. Empty means no phone number and is accepted.
func CheckPhoneNumber(v string) error {
	if v == "" {
		return nil
	}
	digits := v[1:]
	if v[0] != '+' || len(digits) < 8 || len(digits) > 15 {
		return fmt.Errorf("phone_number %q is not an E.164 number ('+' then 8 to 15 digits, e.g. +14155550100)", v)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return fmt.Errorf("phone_number %q is not an E.164 number ('+' then 8 to 15 digits, e.g. +14155550100)", v)
		}
	}
	return nil
}
