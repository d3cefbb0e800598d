package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

func newKeysRevokeCmd(a *app, kf *keysFlags, rf *remoteFlags) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke KID",
		Short: "Withdraw a compromised signing key at once (emergency)",
		Long: `Withdraw a signing key at once, for when it is compromised.

Every server removes it from the JWKS and stops trusting it within seconds:
ID tokens and JWT access tokens it signed no longer verify, and introspection
answers active:false for them. If it was the active key, the next key signs
from now on (or a fresh key, if there is none) and a new next key is published.
Relying parties that cached the JWKS may trust the key for up to the JWKS cache
lifetime. The key stays listed as revoked until it would have been removed.`,
		Example: `  strongroom keys revoke 0dUvn3UFQ2Zyr4j11uHRgQIqdCt1sy4tElw--Dqyjz4
  strongroom keys revoke 0dUvn3UFQ2Zyr4j11uHRgQIqdCt1sy4tElw--Dqyjz4 --yes -o json
  strongroom keys revoke KID --yes --endpoint https://auth.internal:8081 --token-file admin.token
  strongroom keys revoke --yes -- -LpuOBgl-c02vhxZejbEgLSLqDH2UCjfLMCSxHH80Lk   # a kid that starts with "-"`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		kid := args[0]
		if err := a.checkConfirmable(yes); err != nil {
			return err
		}
		return a.withKeys(ctx, rf, kf, true, func(b keysBackend) error {
			list, err := b.ListKeys(ctx)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(list, func(k keys.KeyInfo) bool { return k.KID == kid })
			if i < 0 {
				return fmt.Errorf("no signing key with kid %q (see `strongroom keys list`)", kid)
			}
			k := list[i]
			if k.State == storage.KeyStateRevoked {
				return fmt.Errorf("key %s is already revoked", kid)
			}
			prompt := fmt.Sprintf("Revoke %s %s key %s? Tokens it signed stop verifying at once.", k.State, k.Alg, kid)
			if k.State == storage.KeyStateActive {
				prompt = fmt.Sprintf("Revoke the active %s key %s? Tokens it signed stop verifying at once; the next key signs from now on.", k.Alg, kid)
			}
			if err := a.confirm(yes, prompt); err != nil {
				return err
			}
			res, err := b.RevokeKey(ctx, kid)
			switch {
			case errors.Is(err, keys.ErrKeyNotFound):
				return fmt.Errorf("no signing key with kid %q (see `strongroom keys list`)", kid)
			case errors.Is(err, keys.ErrDecrypt):
				return explain(err, "Is "+envKEK+" the key-encryption key the servers run with?")
			case err != nil:
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, res)
			}
			fmt.Fprintf(a.out, "Revoked %s key %s (was %s).\n", res.Alg, res.KID, res.PreviousState)
			if res.Activated != "" {
				fmt.Fprintf(a.out, "Key %s signs %s tokens from now on.\n", res.Activated, res.Alg)
			}
			if res.Next != "" {
				fmt.Fprintf(a.out, "Published next key %s.\n", res.Next)
			}
			return nil
		})
	}
	return cmd
}
