package main

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
)

// logFormat is the value of serve's --log-format: text (logfmt-like
// key=value lines, the default) or json (one object a line).
type logFormat string

const (
	logText logFormat = "text"
	logJSON logFormat = "json"
)

func (f *logFormat) String() string { return string(*f) }
func (f *logFormat) Type() string   { return "format" }

func (f *logFormat) Set(v string) error {
	switch lf := logFormat(strings.ToLower(strings.TrimSpace(v))); lf {
	case logText, logJSON:
		*f = lf
		return nil
	}
	return fmt.Errorf("%q is not a log format: use text or json", v)
}

// logLevel is the value of serve's --log-level: debug, info (the
// default), warn or error.
type logLevel slog.Level

func (l *logLevel) String() string { return strings.ToLower(slog.Level(*l).String()) }
func (l *logLevel) Type() string   { return "level" }

func (l *logLevel) Set(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "debug":
		*l = logLevel(slog.LevelDebug)
	case "info":
		*l = logLevel(slog.LevelInfo)
	case "warn", "warning":
		*l = logLevel(slog.LevelWarn)
	case "error":
		*l = logLevel(slog.LevelError)
	default:
		return fmt.Errorf("%q is not a log level: use debug, info, warn or error", v)
	}
	return nil
}

// newLogger returns the process's logger writing to w in format, dropping
// records below level. Map values are logged as groups of structured
// values (active.RS256=kid), never as Go's map[...] text.
func newLogger(w io.Writer, format logFormat, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: structureMaps}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// structureMaps turns an attribute whose value is a map into a group with
// one attribute per entry, in key order.
func structureMaps(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	v := reflect.ValueOf(a.Value.Any())
	if v.Kind() != reflect.Map {
		return a
	}
	attrs := make([]slog.Attr, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		attrs = append(attrs, slog.Any(fmt.Sprint(it.Key().Interface()), it.Value().Interface()))
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(attrs...)}
}
