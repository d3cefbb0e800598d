package load

import (
	"math/bits"
	"time"
)

// histSub is the number of sub-buckets per power of two: a recorded value is
// kept to within 1/128 (< 0.8 %) of itself, whatever its magnitude.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histSize    = (64-histSubBits)*histSub + 2*histSub
)

// Histogram counts latencies in log-linear buckets (HDR-style): fixed size
// (~60 KiB), O(1) to record, no allocation, mergeable. Not safe for
// concurrent use: Run gives each connection its own and merges them.
type Histogram struct {
	counts [histSize]int64
	n      int64
	max    int64
}

func histIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	b := bits.Len64(u)
	if b <= histSubBits+1 {
		return int(u)
	}
	shift := b - (histSubBits + 1)
	return shift*histSub + int(u>>uint(shift))
}

// histValue is the midpoint of bucket i.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	shift := (i - histSub) / histSub
	m := int64(i - shift*histSub)
	lo := m << uint(shift)
	return lo + (int64(1)<<uint(shift))/2
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[histIndex(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest observation (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the value below which a fraction q (0..1) of the
// observations fall, to within the bucket precision.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := histValue(i)
			if v > h.max {
				v = h.max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
