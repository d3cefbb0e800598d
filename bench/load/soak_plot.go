package load

import (
	"fmt"
	"io"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotSoak draws the samples as a PNG: one panel per series (RSS,
// goroutines, DB connections, DB size, requests/s, p99) against time;
// title heads the first panel.
func PlotSoak(w io.Writer, title string, samples []Sample) error {
	series := []struct {
		name, unit string
		get        func(Sample) float64
	}{
		{"server RSS", "MiB", func(s Sample) float64 { return float64(s.Res.RSSBytes) / (1 << 20) }},
		{"goroutines", "", func(s Sample) float64 { return float64(s.Res.Goroutines) }},
		{"open DB connections", "", func(s Sample) float64 { return float64(s.Res.DBConns) }},
		{"DB size", "MiB", func(s Sample) float64 { return float64(s.Res.DBBytes) / (1 << 20) }},
		{"throughput", "requests/s", func(s Sample) float64 { return s.RPS }},
		{"p99 latency", "ms", func(s Sample) float64 { return float64(s.P99) / float64(time.Millisecond) }},
	}
	const rows, cols = 3, 2
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, se := range series {
		p := plot.New()
		p.Title.Text = se.name
		if i == 0 && title != "" {
			p.Title.Text = title + "\n" + se.name
		}
		p.X.Label.Text = "minutes"
		p.Y.Label.Text = se.unit
		p.Y.Min = 0
		pts := make(plotter.XYs, 0, len(samples))
		for _, s := range samples {
			if s.ProbeError != "" && i < 4 {
				continue
			}
			pts = append(pts, plotter.XY{X: s.At.Minutes(), Y: se.get(s)})
		}
		if len(pts) > 0 {
			line, err := plotter.NewLine(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", se.name, err)
			}
			p.Add(line, plotter.NewGrid())
		}
		plots[i/cols][i%cols] = p
	}
	img := vgimg.New(vg.Points(900), vg.Points(900))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	canvases := plot.Align(plots, tiles, dc)
	for r := range plots {
		for c := range plots[r] {
			if plots[r][c] != nil {
				plots[r][c].Draw(canvases[r][c])
			}
		}
	}
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}
