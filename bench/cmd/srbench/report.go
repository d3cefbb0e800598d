package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strongroom/strongroom/bench/load"
)

// Report is one srbench run: the machine, the settings, the driver
// ceiling, the floors and every row.
type Report struct {
	Started     time.Time     `json:"started"`
	Finished    time.Time     `json:"finished"`
	Commit      string        `json:"commit"`
	Machine     string        `json:"machine"`
	CPUs        int           `json:"cpus"`
	GoVersion   string        `json:"go_version"`
	Conns       []int         `json:"conns"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	Pool        int           `json:"introspection_pool"`
	Servers     []string      `json:"servers"`
	NodeSkipped string        `json:"node_skipped,omitempty"`
	Ceiling     []load.Result `json:"driver_ceiling"`
	Floors      []Floor       `json:"floors"`
	Rows        []Row         `json:"rows"`
}

func newReport(c *config) *Report {
	commit := "unknown"
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = c.repo
	if out, err := cmd.Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	return &Report{Started: time.Now().UTC(), Commit: commit, Machine: machine(), CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), Conns: c.conns, Duration: c.duration, Warmup: c.warmup, Pool: c.pool}
}

func writeReport(path string, rep *Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the file
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("parse results %s: %w", path, err)
	}
	return &rep, nil
}

func (rep *Report) row(sc, server string, conns int) *Row {
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Scenario == sc && r.Server == server && r.Conns == conns {
			return r
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// printTable prints one line per scenario and concurrency: each server's
// rate and p99, the ratio of the first to the second, the floor and the
// first server's percentage of it.
func printTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nsrbench %s · commit %s · %s · %s\n", rep.Started.Format(time.RFC3339), rep.Commit, rep.Machine, rep.GoVersion)
	fmt.Fprintf(w, "%v measured per point after %v warm-up; introspection cycles through %d pre-minted tokens\n",
		rep.Duration, rep.Warmup, rep.Pool)
	if rep.NodeSkipped != "" {
		fmt.Fprintf(w, "node-oidc-provider NOT measured: %s\n", rep.NodeSkipped)
	}
	for _, r := range rep.Ceiling {
		fmt.Fprintf(w, "driver ceiling (GET of a trivial Go server process, same CPUs) at %d conns: %.0f req/s, p99 %s ms\n",
			r.Conns, r.RPS, ms(r.P99))
	}
	for _, f := range rep.Floors {
		c := ""
		if f.Conns > 0 {
			c = fmt.Sprintf(" at %d conns", f.Conns)
		}
		note := ""
		if f.Note != "" {
			note = " (" + f.Note + ")"
		}
		fmt.Fprintf(w, "floor %s%s: %.0f/s%s\n", f.Name, c, f.Rate, note)
	}
	if len(rep.Rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "scenario\tconns\t"
	for _, s := range rep.Servers {
		hdr += s + " rps\tp99 ms\t"
	}
	if len(rep.Servers) == 2 {
		hdr += "ratio\t"
	}
	hdr += "floor\tfloor /s\t% of floor\t"
	fmt.Fprintln(tw, hdr)
	var notes []string
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		key := fmt.Sprintf("%s/%d", r.Scenario, r.Conns)
		if seen[key] {
			continue
		}
		seen[key] = true
		line := fmt.Sprintf("%s\t%d\t", r.Scenario, r.Conns)
		var rates []float64
		for _, s := range rep.Servers {
			x := rep.row(r.Scenario, s, r.Conns)
			switch {
			case x == nil:
				line += "-\t-\t"
				rates = append(rates, 0)
			case x.Skipped != "":
				line += "n/a\t-\t"
				rates = append(rates, 0)
				notes = append(notes, fmt.Sprintf("%s %s c=%d not measured: %s", s, r.Scenario, r.Conns, x.Skipped))
			default:
				mark := ""
				if x.Errors > 0 {
					mark = "!"
					notes = append(notes, fmt.Sprintf("%s %s c=%d: %d errors of %d, first: %s", s, r.Scenario, r.Conns, x.Errors, x.Requests, x.FirstError))
				}
				line += fmt.Sprintf("%.0f%s\t%s\t", x.RPS, mark, ms(x.P99))
				rates = append(rates, x.RPS)
			}
		}
		if len(rep.Servers) == 2 {
			if rates[0] > 0 && rates[1] > 0 {
				line += fmt.Sprintf("%.2fx\t", rates[0]/rates[1])
			} else {
				line += "-\t"
			}
		}
		fname, frate := floorFor(rep, r.Scenario, r.Conns, rep.Servers[0])
		if frate > 0 {
			pct := "-"
			if rates[0] > 0 {
				pct = fmt.Sprintf("%.0f%%", 100*rates[0]/frate)
				if fname == "plain_cc_opaque" {
					notes = append(notes, fmt.Sprintf("%s c=%d costs %.1f µs per request more than plain cc_opaque (1/rate difference, %s)",
						r.Scenario, r.Conns, 1e6*(1/rates[0]-1/frate), rep.Servers[0]))
				}
			}
			line += fmt.Sprintf("%s\t%.0f\t%s\t", fname, frate, pct)
		} else {
			line += fname + "\t-\t-\t"
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	fmt.Fprintln(w, "\nratio = first server / second; % of floor is the first server's. cc_dpop signs one ES256 proof per request in the driver, on the same CPUs.")
}
