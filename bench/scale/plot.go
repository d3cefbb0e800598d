package main

import (
	"bufio"
	"fmt"
	"image/color"
	"os"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// point is one measured step: the table's row count (live + expired), the
// endpoint and its latencies.
type point struct {
	rows     float64
	endpoint string
	p50, p99 float64 // milliseconds
}

// readPoints parses the lines measure.sh appends:
// <rows> TAB <endpoint> TAB <p50 ms> TAB <p99 ms> TAB <req/s>.
// Lines whose first field is not a number (other labels) are skipped.
func readPoints(path string) ([]point, error) {
	f, err := os.Open(path) // #nosec G304 G703 -- the operator names the points file
	if err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	defer f.Close()
	var pts []point
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			continue
		}
		rows, err := strconv.ParseFloat(fs[0], 64)
		if err != nil {
			continue
		}
		p50, err1 := strconv.ParseFloat(fs[2], 64)
		p99, err2 := strconv.ParseFloat(fs[3], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("scale: bad line %q", sc.Text())
		}
		pts = append(pts, point{rows: rows, endpoint: fs[1], p50: p50, p99: p99})
	}
	return pts, sc.Err()
}

// plotFile draws p99 (solid) and p50 (dashed) latency against the table's
// row count, one colour per endpoint, into a PNG.
func plotFile(in, out string) error {
	pts, err := readPoints(in)
	if err != nil {
		return err
	}
	if len(pts) == 0 {
		return fmt.Errorf("scale: no points in %s", in)
	}
	p := plot.New()
	p.Title.Text = "Latency against token-table size (16 connections, wrk)"
	p.X.Label.Text = "rows loaded into oauth2_requests (millions: live + expired, see bench/results/scale-10m.txt)"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top = true
	p.Legend.Left = true
	byEndpoint := map[string][]point{}
	var names []string
	for _, pt := range pts {
		if _, ok := byEndpoint[pt.endpoint]; !ok {
			names = append(names, pt.endpoint)
		}
		byEndpoint[pt.endpoint] = append(byEndpoint[pt.endpoint], pt)
	}
	colours := []color.Color{color.RGBA{R: 200, A: 255}, color.RGBA{B: 200, A: 255}, color.RGBA{G: 150, A: 255}}
	for i, name := range names {
		ps := byEndpoint[name]
		sort.Slice(ps, func(a, b int) bool { return ps[a].rows < ps[b].rows })
		p99 := make(plotter.XYs, len(ps))
		p50 := make(plotter.XYs, len(ps))
		for j, pt := range ps {
			p99[j] = plotter.XY{X: pt.rows / 1e6, Y: pt.p99}
			p50[j] = plotter.XY{X: pt.rows / 1e6, Y: pt.p50}
		}
		c := colours[i%len(colours)]
		for _, s := range []struct {
			xys  plotter.XYs
			what string
			dash []vg.Length
		}{{p99, "p99", nil}, {p50, "p50", []vg.Length{vg.Points(4), vg.Points(3)}}} {
			l, pp, err := plotter.NewLinePoints(s.xys)
			if err != nil {
				return fmt.Errorf("scale: plot: %w", err)
			}
			l.Color, l.Dashes = c, s.dash
			pp.Color, pp.Shape = c, draw.CircleGlyph{}
			p.Add(l, pp)
			p.Legend.Add(name+" "+s.what, l, pp)
		}
	}
	p.Y.Min = 0
	if err := p.Save(8*vg.Inch, 5*vg.Inch, out); err != nil {
		return fmt.Errorf("scale: save plot: %w", err)
	}
	return nil
}
