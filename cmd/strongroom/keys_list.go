package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

func newKeysListCmd(a *app, kf *keysFlags, rf *remoteFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys (kid, algorithm, state, dates; never private material)",
		Example: `  strongroom keys list
  strongroom keys list -o json | jq -r '.[] | select(.state == "active") | .kid'
  strongroom keys list --endpoint https://auth.internal:8081 --token-file admin.token`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		return a.withKeys(ctx, rf, kf, false, func(b keysBackend) error {
			views, err := b.ListKeys(ctx)
			if err != nil {
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, views)
			}
			if len(views) == 0 {
				fmt.Fprintln(a.out, "No signing keys: `strongroom serve` creates them on first start.")
				return nil
			}
			tw := newTable(a.out)
			fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATED\tRETIRED\tNOTE")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.KID, v.Alg, v.State, formatTime(v.CreatedAt),
					timeOrDash(v.ActivatedAt), timeOrDash(v.RetiredAt), keyNote(v))
			}
			return tw.Flush()
		})
	}
	return cmd
}

// keyNote says what happens to a key next.
func keyNote(v keys.KeyInfo) string {
	switch {
	case v.State == storage.KeyStateNext && v.SignsFrom != nil:
		return "may sign from " + formatTime(*v.SignsFrom)
	case v.State == storage.KeyStateRevoked && v.RevokedAt != nil:
		return "revoked " + formatTime(*v.RevokedAt) + "; removable after " + formatTime(*v.RemoveAfter)
	case v.State == storage.KeyStateRetired && v.RemoveAfter != nil:
		return "removable after " + formatTime(*v.RemoveAfter)
	}
	return "-"
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return formatTime(*t)
}
