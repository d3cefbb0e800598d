package main

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/storage"
)

// keyView is what `keys list` shows of a key: never private material.
type keyView struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt time.Time  `json:"published_at"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	// SignsFrom is when a next key may become active (keys.Policy.ReadyAt).
	SignsFrom *time.Time `json:"signs_from,omitempty"`
	// RemoveAfter is when a retired or revoked key may be removed.
	RemoveAfter *time.Time `json:"remove_after,omitempty"`
}

func newKeyView(k *storage.SigningKey, p keys.Policy) keyView {
	v := keyView{
		KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt.UTC(),
		PublishedAt: cmp.Or(k.PublishedAt, &k.CreatedAt).UTC(),
		ActivatedAt: utcPtr(k.ActivatedAt), RetiredAt: utcPtr(k.RetiredAt), RevokedAt: utcPtr(k.RevokedAt),
	}
	switch k.State {
	case storage.KeyStateNext:
		at := p.ReadyAt(k).UTC()
		v.SignsFrom = &at
	case storage.KeyStateRetired, storage.KeyStateRevoked:
		at := p.RemoveAt(k).UTC()
		v.RemoveAfter = &at
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// stateOrder sorts keys within an algorithm: the signing key first.
var stateOrder = map[string]int{
	storage.KeyStateActive: 0, storage.KeyStateNext: 1, storage.KeyStateRetired: 2, storage.KeyStateRevoked: 3,
}

// sortKeyViews orders keys by algorithm (RS256 first), state, newest first.
func sortKeyViews(vs []keyView) {
	algRank := func(alg string) int {
		if i := slices.Index(keys.SupportedAlgorithms(), alg); i >= 0 {
			return i
		}
		return len(keys.SupportedAlgorithms())
	}
	slices.SortStableFunc(vs, func(a, b keyView) int {
		return cmp.Or(
			cmp.Compare(algRank(a.Alg), algRank(b.Alg)),
			cmp.Compare(a.Alg, b.Alg),
			cmp.Compare(stateOrder[a.State], stateOrder[b.State]),
			b.CreatedAt.Compare(a.CreatedAt),
		)
	})
}

func newKeysListCmd(a *app, kf *keysFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys (kid, algorithm, state, dates; never private material)",
		Example: `  strongroom keys list
  strongroom keys list -o json | jq -r '.[] | select(.state == "active") | .kid'`,
		Args: cobra.NoArgs,
	}
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		policy, err := kf.policy()
		if err != nil {
			return err
		}
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		rows, err := store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		views := make([]keyView, 0, len(rows))
		for i := range rows {
			views = append(views, newKeyView(&rows[i], policy))
		}
		sortKeyViews(views)
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
	}
	return cmd
}

// keyNote says what happens to a key next.
func keyNote(v keyView) string {
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
