package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

// rotateView is the JSON output of `keys rotate`, one per algorithm.
type rotateView struct {
	Alg         string     `json:"alg"`
	Activated   string     `json:"activated,omitempty"`
	Retired     string     `json:"retired,omitempty"`
	Next        string     `json:"next,omitempty"`
	NextReadyAt *time.Time `json:"next_signs_from,omitempty"`
	Removed     []string   `json:"removed"`
	Forced      bool       `json:"forced"`
}

func newKeysRotateCmd(a *app, kf *keysFlags) *cobra.Command {
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
    published for --jwks-cache-lifetime + 5s so that every relying party has
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
  strongroom keys rotate --alg RS256 --force   # emergency: activate a fresh key now`,
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
		origin, err := a.keysOrigin(kf)
		if err != nil {
			return err
		}
		m, store, closeStore, err := a.keyManager(ctx, kf)
		if err != nil {
			return err
		}
		defer closeStore()
		algs := []string{alg}
		if alg == "" {
			if algs, err = activeAlgs(cmd, store); err != nil {
				return err
			}
		}
		results, err := m.RotateAlgs(ctx, algs, keys.RotateOptions{Force: force, Origin: origin})
		switch {
		case errors.Is(err, keys.ErrNextNotReady):
			return fmt.Errorf("%w\nnothing was changed: run it again then, or pass --force in an emergency", err)
		case errors.Is(err, keys.ErrAlreadyRotated):
			return fmt.Errorf("%w\nanother rotation changed the keys at the same time; nothing was changed by this one: check `strongroom keys list`", err)
		case errors.Is(err, keys.ErrDecrypt):
			return fmt.Errorf("%w\nis %s the key-encryption key the servers run with? nothing was changed", err, envKEK)
		case err != nil:
			return err
		}
		if *output == formatJSON {
			views := make([]rotateView, 0, len(results))
			for _, r := range results {
				v := rotateView{Alg: r.Alg, Activated: r.Activated, Retired: r.Retired, Next: r.Next, Removed: r.Removed, Forced: r.Forced}
				if v.Removed == nil {
					v.Removed = []string{}
				}
				if r.Next != "" {
					at := r.NextReadyAt.UTC()
					v.NextReadyAt = &at
				}
				views = append(views, v)
			}
			return writeJSON(a.out, views)
		}
		for _, r := range results {
			if r.Activated == "" {
				fmt.Fprintf(a.out, "%s: published next key %s; it may sign from %s. Run `strongroom keys rotate --alg %s` again then.\n",
					r.Alg, r.Next, formatTime(r.NextReadyAt), r.Alg)
				continue
			}
			fmt.Fprintf(a.out, "%s: key %s signs now", r.Alg, r.Activated)
			if r.Retired != "" {
				fmt.Fprintf(a.out, "; %s is retired (published until its tokens expire)", r.Retired)
			}
			if r.Next != "" {
				fmt.Fprintf(a.out, "; next key %s published, may sign from %s", r.Next, formatTime(r.NextReadyAt))
			}
			fmt.Fprintln(a.out, ".")
		}
		if len(results) > 0 && len(results[0].Removed) > 0 {
			fmt.Fprintf(a.out, "Removed expired keys: %s.\n", strings.Join(results[0].Removed, ", "))
		}
		return nil
	}
	return cmd
}

// activeAlgs lists the algorithms that have an active key, RS256 first.
func activeAlgs(cmd *cobra.Command, store storage.Keys) ([]string, error) {
	rows, err := store.ListKeys(cmd.Context())
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	var algs []string
	for _, alg := range keys.SupportedAlgorithms() {
		if slices.ContainsFunc(rows, func(k storage.SigningKey) bool { return k.Alg == alg && k.State == storage.KeyStateActive }) {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		return nil, errors.New("no active signing key to rotate: `strongroom serve` creates the first keys")
	}
	return algs, nil
}
