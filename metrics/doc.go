// Package metrics is Strongroom's Prometheus instrumentation: one
// prometheus.Registry per server (never the global default registry), the
// recorders the domain services call through their own small interfaces
// (login.Metrics, oauth.Metrics, janitor.Metrics, httpmw.RequestObserver,
// the rate limiter's observer), the collectors that read state at scrape
// time (database pool, signing keys, back-channel logout queue) and the
// /metrics handler with its optional bearer token.
//
// Every metric name starts with "strongroom_" (Names lists them). Labels
// take values from fixed sets only: an HTTP route is Echo's route pattern,
// never the request path; a grant type or reason the recorder does not
// know is counted as "other". So a flood of odd requests cannot grow the
// number of series.
//
// The token path is kept cheap: the counters it touches are resolved once,
// at construction, for every known label value (no label hashing, no
// allocation per token).
//
// Never here: deciding anything. Metrics only observe; a recorder never
// fails and never blocks a request.
package metrics
