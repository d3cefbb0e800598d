package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

func newAuditCmd(a *app) *cobra.Command {
	return newRemoteGroupCmd(a, "audit", "Read the audit trail",
		`  strongroom audit list --since 24h
  strongroom audit list --action client.secret.rotate -o json`,
		newAuditListCmd,
	)
}

func newAuditListCmd(a *app, rf *remoteFlags) *cobra.Command {
	var f authzadmin.AuditFilter
	var since string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Long: `List audit events, newest first: operator changes to clients, users and
signing keys (actor, action, target, time, source) and security events such
as logins. Filters combine; without --limit at most 100 events are shown.`,
		Example: `  strongroom audit list
  strongroom audit list --action client.secret.rotate --since 168h
  strongroom audit list --target 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f --since 2026-01-01T00:00:00Z -o json
  strongroom audit list --actor operator:alice --limit 1000`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Action, "action", "", "only this action, e.g. client.update, key.rotate")
	fl.StringVar(&f.Actor, "actor", "", "only this actor, e.g. operator:alice, client:ops-bot")
	fl.StringVar(&f.Target, "target", "", "only this target: a client id, user id or kid")
	fl.StringVar(&since, "since", "", "only events since a duration ago (24h) or an RFC 3339 time")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many events (1-1000)")
	output := addOutputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if f.Limit < 1 || f.Limit > 1000 {
			return usageErrorf("--limit must be from 1 to 1000")
		}
		if since != "" {
			if d, err := time.ParseDuration(since); err == nil && d > 0 {
				f.Since = time.Now().Add(-d)
			} else if t, err := time.Parse(time.RFC3339, since); err == nil {
				f.Since = t
			} else {
				return usageErrorf("--since must be a positive duration (24h) or an RFC 3339 time (2026-01-02T15:04:05Z)")
			}
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
			fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tTARGET\tOUTCOME\tSOURCE\tDETAILS")
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", formatTime(e.Time), e.Actor, e.Action,
					orDash(e.Target), e.Outcome, orDash(src), orDash(strings.Join(details, " ")))
			}
			return tw.Flush()
		})
	}
	return cmd
}
