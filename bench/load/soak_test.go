package load

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func samplesOf(rss ...int64) []Sample {
	out := make([]Sample, len(rss))
	for i, r := range rss {
		out[i] = Sample{At: time.Duration(i+1) * 15 * time.Second, Res: Resources{RSSBytes: r << 20, Goroutines: 40, DBConns: 8, DBBytes: 50 << 20}, RPS: 100, P99: time.Millisecond}
	}
	return out
}

func TestSoakVerdictFlagsGrowth(t *testing.T) {
	if v := Judge(samplesOf(80, 100, 101, 100, 102, 101), DefaultTolerances); !v.Flat {
		t.Fatalf("steady RSS judged growing: %q", v.Lines)
	}
	v := Judge(samplesOf(80, 100, 110, 130, 150, 170), DefaultTolerances)
	if v.Flat || !strings.Contains(v.Lines[0], "GROWING") {
		t.Fatalf("RSS growing 100 -> 170 MiB judged flat: %q", v.Lines)
	}
	if v := Judge(samplesOf(80, 100), DefaultTolerances); v.Flat {
		t.Fatal("two samples judged flat")
	}
}

func TestSoakCSVAndPlot(t *testing.T) {
	ss := samplesOf(80, 100, 101, 100)
	ss[1].PerOp = map[string]int64{"refresh": 7}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, ss, []string{"refresh"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "30,100.00,40,8,50.00,100.00,1.00,") || !strings.Contains(lines[2], ",7,") {
		t.Fatalf("csv:\n%s", csv.String())
	}
	var png bytes.Buffer
	if err := PlotSoak(&png, "test", ss); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png.Bytes(), []byte("\x89PNG")) {
		t.Fatal("not a PNG")
	}
}
