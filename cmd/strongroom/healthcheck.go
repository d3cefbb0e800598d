package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// Defaults of `strongroom healthcheck`: the readiness endpoint of a server
// started with the image's default command, and a timeout well under the
// HEALTHCHECK's.
const (
	defaultHealthcheckURL     = "http://127.0.0.1:8080/readyz"
	defaultHealthcheckTimeout = 3 * time.Second
	envHealthcheckURL         = "STRONGROOM_HEALTHCHECK_URL"
)

// newHealthcheckCmd builds `strongroom healthcheck`.
func newHealthcheckCmd(a *app) *cobra.Command {
	var (
		target  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server answers ready, 1 otherwise (for a container HEALTHCHECK)",
		Long: `Ask a running server whether it is ready: GET --url (default $` + envHealthcheckURL + `,
else ` + defaultHealthcheckURL + `). Exit 0 on a 2xx answer within --timeout, 1
otherwise (not ready, draining, unreachable, or a bad --url), as Docker's
HEALTHCHECK expects; redirects are not followed. Nothing is printed when ready.`,
		Example: `  strongroom healthcheck
  strongroom healthcheck --url http://127.0.0.1:9090/readyz --timeout 1s

  # Dockerfile
  HEALTHCHECK --interval=10s --timeout=5s CMD ["/usr/local/bin/strongroom", "healthcheck"]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("url") {
				if v := a.getenv(envHealthcheckURL); v != "" {
					target = v
				}
			}
			return checkReady(cmd.Context(), target, timeout)
		},
	}
	cmd.Flags().StringVar(&target, "url", defaultHealthcheckURL, "readiness URL of the server")
	cmd.Flags().DurationVar(&timeout, "timeout", defaultHealthcheckTimeout, "give up after this long")
	return cmd
}

// checkReady GETs target and returns nil on a 2xx answer within timeout.
func checkReady(ctx context.Context, target string, timeout time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want an http:// or https:// URL", target)
	}
	if timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("not ready: %s did not answer within %s", u.Redacted(), timeout)
		}
		return fmt.Errorf("not ready: %s: %v", u.Redacted(), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("not ready: %s answered %s", u.Redacted(), resp.Status)
	}
	return nil
}
