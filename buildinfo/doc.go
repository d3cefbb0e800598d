// Package buildinfo tells which Strongroom this binary is: its version,
// commit and build date (stamped at link time with -ldflags -X, see the
// Makefile's build target), the Go toolchain that built it and the fosite
// version it embeds. Unstamped builds fall back to what the Go toolchain
// records (module version, VCS revision and time). It only reads; nothing
// here may depend on the rest of Strongroom.
package buildinfo
