package backchannel

import (
	"testing"
	"time"
)

func TestBackchannelBackoff(t *testing.T) {
	cfg := Config{BaseDelay: time.Second, MaxDelay: 10 * time.Second}
	cfg.ApplyDefaults()
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 40: 10 * time.Second} {
		if got := cfg.backoff(attempts); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
	if cfg.MaxAttempts != 10 || cfg.Lease != time.Minute || cfg.HTTPClient == nil || cfg.HTTPClient.Timeout != 5*time.Second {
		t.Errorf("defaults %+v", cfg)
	}
}
