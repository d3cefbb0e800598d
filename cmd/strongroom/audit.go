package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
)

func newAuditCmd(a *app) *cobra.Command {
	return newRemoteGroupCmd(a, "audit", "Read, verify, export and prune the audit trail",
		`  strongroom audit list --since 24h
  strongroom audit list --action client.secret.rotate -o json
  strongroom audit verify
  strongroom audit export --since 24h --format jsonl >> /var/log/strongroom-audit.jsonl
  strongroom audit prune --retention 400d`,
		newAuditListCmd, newAuditVerifyCmd, newAuditExportCmd, newAuditPruneCmd,
	)
}

// parseTimeFlag reads a flag holding a duration ago (24h) or an RFC 3339
// time.
func parseTimeFlag(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("--%s must be a positive duration (24h) or an RFC 3339 time (2026-01-02T15:04:05Z)", name)
}

// parseRetention reads a retention as days ("400d") or a Go duration
// ("9600h").
func parseRetention(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, usageErrorf("--retention must be a number of days (400d) or a duration (9600h)")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageErrorf("--retention must be a number of days (400d) or a duration (9600h)")
	}
	return d, nil
}

// localOnly refuses --endpoint for the commands that need the database and
// the system secret.
func localOnly(rf *remoteFlags, what string) error {
	if rf.endpoint != "" || rf.tokenFile != "" {
		return usageErrorf("audit %s works on the database (DATABASE_URL and STRONGROOM_SECRET), not through --endpoint", what)
	}
	return nil
}

// withTrail opens the store and the trail (checkpoint key from
// STRONGROOM_SECRET) and runs fn.
func (a *app) withTrail(ctx context.Context, fn func(storage.Store, *audit.Trail) error) error {
	secret, err := a.systemSecret()
	if err != nil {
		return err
	}
	key, err := authz.DeriveKey(secret, audit.KeyPurpose)
	if err != nil {
		return err
	}
	store, closeStore, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	trail, err := audit.New(store, key, nil)
	if err != nil {
		return err
	}
	return fn(store, trail)
}

func newAuditVerifyCmd(a *app, rf *remoteFlags) *cobra.Command {
	var anchors []string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no audit event was changed, deleted or reordered",
		Long: `Walk the whole audit trail in id order (streaming, constant memory) and
recompute its hash chain. Exits 0 and prints the chain's head when the trail
is intact; exits 1 naming the first event that was changed, deleted or
reordered, a forged prune checkpoint, or missing newest events.

Record the printed head (id:hash) somewhere the database's administrators
cannot write (a SIEM, a ticket) and pass it back with --anchor later: a
rewrite of the trail up to that event is then detected even if the whole
chain was recomputed. Needs DATABASE_URL and STRONGROOM_SECRET (checkpoints
are authenticated with a key derived from it), or --endpoint: the admin
API then runs the check (GET /admin/v1/audit/verify).`,
		Example: `  strongroom audit verify
  strongroom audit verify --anchor 18234:9f2c...e1 -o json`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil, "an event's hash recorded earlier, as <id>:<hex> (repeatable)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var opts audit.VerifyOptions
		for _, s := range anchors {
			an, err := audit.ParseAnchor(s)
			if err != nil {
				return usageErrorf("--anchor: %v", err)
			}
			opts.Anchors = append(opts.Anchors, an)
		}
		ctx := cmd.Context()
		var rep audit.Report
		if rf.endpoint != "" || rf.tokenFile != "" {
			if len(anchors) > 0 {
				return usageErrorf("--anchor works on the database only, not through --endpoint")
			}
			c, err := a.newRemote(rf)
			if err != nil {
				return err
			}
			if rep, err = c.Clients.VerifyAudit(ctx); err != nil {
				return err
			}
		} else {
			err := a.withTrail(ctx, func(_ storage.Store, trail *audit.Trail) error {
				var err error
				rep, err = trail.Verify(ctx, opts)
				return err
			})
			if err != nil {
				return err
			}
		}
		if *output == formatJSON {
			if err := writeJSON(a.out, rep); err != nil {
				return err
			}
		} else if rep.Problem == nil {
			from := "the start of the trail"
			if rep.StartCut > 0 {
				from = fmt.Sprintf("the prune checkpoint at event %d", rep.StartCut)
			}
			fmt.Fprintf(a.out, "audit trail intact: %d events checked from %s, %d checkpoint(s) authenticated\nhead: %s\n",
				rep.Events, from, rep.Checkpoints, rep.HeadText)
		}
		if rep.Problem != nil {
			return fmt.Errorf("audit trail broken: %s", rep.Problem.Message)
		}
		return nil
	}
	return cmd
}

func newAuditExportCmd(a *app, rf *remoteFlags) *cobra.Command {
	var since, until, format string
	var afterID int64
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write audit events as JSON Lines for a SIEM",
		Long: `Write audit events, oldest first, one JSON object per line, to standard
output (streaming: any size of trail in constant memory). Each line holds the
event as stored with its prev_hash and hash (hex), so the receiver can
re-check the chain. For incremental shipping pass the last exported id with
--after-id.`,
		Example: `  strongroom audit export --since 24h --format jsonl
  strongroom audit export --after-id 18234 >> audit.jsonl
  strongroom audit export --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z | gzip > jan.jsonl.gz`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&since, "since", "", "only events since a duration ago (24h) or an RFC 3339 time")
	fl.StringVar(&until, "until", "", "only events before a duration ago or an RFC 3339 time")
	fl.Int64Var(&afterID, "after-id", 0, "only events with a larger id (the last id already shipped)")
	fl.StringVar(&format, "format", "jsonl", `output format: "jsonl" (JSON Lines)`)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := localOnly(rf, "export"); err != nil {
			return err
		}
		if format != "jsonl" {
			return usageErrorf(`--format must be "jsonl"`)
		}
		now := time.Now()
		s, err := parseTimeFlag("since", since, now)
		if err != nil {
			return err
		}
		u, err := parseTimeFlag("until", until, now)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		_, err = audit.Export(ctx, store, a.out, afterID, s, u)
		return err
	}
	return cmd
}

func newAuditPruneCmd(a *app, rf *remoteFlags) *cobra.Command {
	var retention string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete audit events older than the retention, behind a checkpoint",
		Long: `Delete the audit events older than --retention and, in the same
transaction, record an authenticated checkpoint (HMAC-SHA256 under a key
derived from STRONGROOM_SECRET) of the hash at the cut, so "audit verify"
still passes afterwards and detects a forged checkpoint. An audit.prune
event records who pruned what. The trail is verified first: a broken trail
is never pruned (that would destroy the evidence). Export the events first
if they must be kept elsewhere; PCI DSS v4 10.5.1 asks for at least 12
months of history.`,
		Example: `  strongroom audit export --until 400d >> archive.jsonl && strongroom audit prune --retention 400d`,
		Args:    cobra.NoArgs,
	}
	cmd.Flags().StringVar(&retention, "retention", "", "keep events younger than this: days (400d) or a duration (required)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := localOnly(rf, "prune"); err != nil {
			return err
		}
		if retention == "" {
			return usageErrorf("--retention is required, e.g. --retention 400d")
		}
		d, err := parseRetention(retention)
		if err != nil {
			return err
		}
		if d < 24*time.Hour {
			return usageErrorf("--retention must be at least 1d")
		}
		ctx := cmd.Context()
		return a.withTrail(ctx, func(_ storage.Store, trail *audit.Trail) error {
			op := a.operator()
			res, err := trail.Prune(ctx, d, storage.AuditEvent{Actor: op.Name, UserAgent: "strongroom-cli",
				Details: map[string]string{"source": op.Source}})
			if err != nil {
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, res)
			}
			if res.Checkpoint == nil {
				fmt.Fprintf(a.out, "nothing to prune: no event is older than %s\n", retention)
				return nil
			}
			fmt.Fprintf(a.out, "pruned %d events through event %d (%s); checkpoint %d written\n",
				res.Pruned, res.CutID, formatTime(res.Checkpoint.CutTime), res.Checkpoint.ID)
			return nil
		})
	}
	return cmd
}

func newAuditListCmd(a *app, rf *remoteFlags) *cobra.Command {
	var f authzadmin.AuditFilter
	var since, until string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Long: `List audit events, newest first: operator changes to clients, users and
signing keys (actor, action, target, time, source) and security events such
as logins. Filters combine; without --limit at most 100 events are shown.`,
		Example: `  strongroom audit list
  strongroom audit list --action client.secret.rotate --since 168h
  strongroom audit list --target 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --since 2026-01-01T00:00:00Z -o json
  strongroom audit list --client billing --outcome failure --since 24h
  strongroom audit list --subject 5b1d... --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z
  strongroom audit list --by operator:alice --limit 1000`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Action, "action", "", "only this action, e.g. client.update, key.rotate")
	fl.StringVar(&f.Actor, "by", "", "only this actor, e.g. operator:alice, client:ops-bot")
	// --actor was this filter's name before the root --actor named the
	// operator; kept, hidden, so that scripts keep working (it shadows the
	// root flag here, which a read does not use).
	fl.StringVar(&f.Actor, "actor", "", "only this actor (old name of --by)")
	_ = fl.MarkHidden("actor")
	fl.StringVar(&f.Target, "target", "", "only this target: a client id, user id or kid")
	fl.StringVar(&f.Outcome, "outcome", "", `only this outcome: "success" or "failure"`)
	fl.StringVar(&f.Client, "client", "", "only events by or about this client id (actor, target or details)")
	fl.StringVar(&f.Subject, "subject", "", "only events by or about this user id (actor, target or details)")
	fl.StringVar(&since, "since", "", "only events since a duration ago (24h) or an RFC 3339 time")
	fl.StringVar(&until, "until", "", "only events before a duration ago (1h) or an RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many events (1-1000)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if f.Limit < 1 || f.Limit > 1000 {
			return usageErrorf("--limit must be from 1 to 1000")
		}
		if f.Outcome != "" && f.Outcome != authzadmin.OutcomeSuccess && f.Outcome != authzadmin.OutcomeFailure {
			return usageErrorf(`--outcome must be "success" or "failure"`)
		}
		now := time.Now()
		var err error
		if f.Since, err = parseTimeFlag("since", since, now); err != nil {
			return err
		}
		if f.Until, err = parseTimeFlag("until", until, now); err != nil {
			return err
		}
		return a.withClients(ctx, rf, false, func(b adminBackend) error {
			events, err := b.ListAudit(ctx, f)
			if err != nil {
				return err
			}
			if *output == formatJSON {
				return writeJSON(a.out, events)
			}
			tw := newTable(a.out)
			fmt.Fprintln(tw, "ID\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME\tSOURCE\tDETAILS")
			for _, e := range events {
				src := e.Details["source"]
				if e.SourceIP != "" {
					src = strings.TrimSpace(src + " " + e.SourceIP)
				}
				var details []string
				for _, k := range sortedKeys(e.Details) {
					if k != "source" {
						details = append(details, k+"="+e.Details[k])
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, formatTime(e.Time), e.Actor, e.Action,
					orDash(e.Target), e.Outcome, orDash(src), orDash(strings.Join(details, " ")))
			}
			return tw.Flush()
		})
	}
	return cmd
}
