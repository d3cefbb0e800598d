package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
)

func newKeysRotateCmd(a *app, kf *keysFlags, rf *remoteFlags) *cobra.Command {
	var (
		alg   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Move the signing keys one step: next → active → retired, publish a new next key",
		Long: `Move the signing keys of one algorithm (--alg) or of every algorithm that has
an active key one step, in one transaction:

  - the next key becomes active and signs new tokens; it must have been
    published for --jwks-cache-lifespan + 5s so that every relying party has
    it cached (--force skips the wait in an emergency);
  - the active key is retired: it stays published until every token it signed
    has expired;
  - a new next key is published;
  - retired and revoked keys whose tokens have all expired are removed.

Without a next key (the first rotation of a deployment) it only publishes one:
run it again once that key may sign. Every server picks the change up within
seconds. A rotation running at the same time (another operator, or a server's
--key-rotation-interval) makes this one fail without changing anything.`,
		Example: `  strongroom keys rotate
  strongroom keys rotate --alg ES256
  strongroom keys rotate --alg RS256 --force   # emergency: activate a fresh key now
  strongroom keys rotate --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&alg, "alg", "", "algorithm to rotate: "+strings.Join(keys.SupportedAlgorithms(), ", ")+" (default: every algorithm with an active key)")
	cmd.Flags().BoolVar(&force, "force", false, "activate the next key even if relying parties may not have it cached yet (emergencies only)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if alg != "" && !slices.Contains(keys.SupportedAlgorithms(), alg) {
			return usageErrorf("--alg: %q is not one of %s", alg, strings.Join(keys.SupportedAlgorithms(), ", "))
		}
		return a.withKeys(ctx, rf, kf, true, func(b keysBackend) error {
			results, err := b.RotateKeys(ctx, alg, force)
			switch {
			case errors.Is(err, keys.ErrNextNotReady):
				return explain(err, "Run it again then, or pass --force in an emergency.")
			case errors.Is(err, keys.ErrAlreadyRotated):
				return explain(err, "Check `strongroom keys list` before rotating again.")
			case errors.Is(err, keys.ErrDecrypt):
				return explain(err, "Is "+envKEK+" the key-encryption key the servers run with?")
			case errors.Is(err, keys.ErrNoActiveKey):
				return errors.New("no active signing key to rotate: `strongroom serve` creates the first keys")
			case err != nil:
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, results)
			}
			for _, r := range results {
				if r.Activated == "" {
					fmt.Fprintf(a.out, "%s: published next key %s; it may sign from %s. Run `strongroom keys rotate --alg %s` again then.\n",
						r.Alg, r.Next, timeOrDash(r.NextSignsFrom), r.Alg)
					continue
				}
				fmt.Fprintf(a.out, "%s: key %s signs now", r.Alg, r.Activated)
				if r.Retired != "" {
					fmt.Fprintf(a.out, "; %s is retired (published until its tokens expire)", r.Retired)
				}
				if r.Next != "" {
					fmt.Fprintf(a.out, "; next key %s published, may sign from %s", r.Next, timeOrDash(r.NextSignsFrom))
				}
				fmt.Fprintln(a.out, ".")
			}
			if len(results) > 0 && len(results[0].Removed) > 0 {
				fmt.Fprintf(a.out, "Removed expired keys: %s.\n", strings.Join(results[0].Removed, ", "))
			}
			return nil
		})
	}
	return cmd
}
