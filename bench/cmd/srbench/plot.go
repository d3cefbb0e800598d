package main

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writePlots draws throughput.png and p99.png in dir: one panel per
// scenario, one line per server, against concurrency (log scale).
func writePlots(dir string, rep *Report) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("plot directory: %w", err)
	}
	var names []string
	for _, sc := range scenarios {
		for _, r := range rep.Rows {
			if r.Scenario == sc.name && r.Skipped == "" {
				names = append(names, sc.name)
				break
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	for _, m := range []struct {
		file, label string
		value       func(Row) float64
	}{
		{"throughput.png", "requests/s", func(r Row) float64 { return r.RPS }},
		{"p99.png", "p99 latency (ms)", func(r Row) float64 { return float64(r.P99) / 1e6 }},
	} {
		if err := drawGrid(filepath.Join(dir, m.file), m.label, names, rep, m.value); err != nil {
			return err
		}
	}
	return nil
}

func drawGrid(path, label string, names []string, rep *Report, value func(Row) float64) error {
	const cols = 2
	rows := (len(names) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	logX := len(rep.Conns) > 2
	for i, name := range names {
		p := plot.New()
		p.Title.Text = name + " (" + rep.Commit + ")"
		p.X.Label.Text = "connections"
		p.Y.Label.Text = label
		p.Y.Min = 0
		if logX {
			p.X.Scale = plot.LogScale{}
		}
		p.X.Tick.Marker = plot.ConstantTicks(connTicks(rep.Conns))
		var args []any
		for _, s := range rep.Servers {
			var xys plotter.XYs
			for _, r := range rep.Rows {
				if r.Scenario == name && r.Server == s && r.Skipped == "" {
					xys = append(xys, plotter.XY{X: float64(r.Conns), Y: value(r)})
				}
			}
			if len(xys) > 0 {
				args = append(args, s, xys)
			}
		}
		if err := plotutil.AddLinePoints(p, args...); err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		p.Legend.Top = true
		p.Legend.Left = true
		grid[i/cols][i%cols] = p
	}
	w, h := 6*vg.Inch*cols, 3.5*vg.Inch*vg.Length(rows)
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, t, dc)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path) // #nosec G304 -- the operator's output directory
	if err != nil {
		return fmt.Errorf("plot file: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func connTicks(conns []int) []plot.Tick {
	t := make([]plot.Tick, len(conns))
	for i, c := range conns {
		t[i] = plot.Tick{Value: float64(c), Label: fmt.Sprint(c)}
	}
	return t
}
