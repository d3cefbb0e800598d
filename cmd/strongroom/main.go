// Command strongroom runs and administers the Strongroom authorization server.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	a := &app{
		in:     os.Stdin,
		out:    os.Stdout,
		errOut: os.Stderr,
		log:    newLogger(os.Stderr, logText, slog.LevelInfo),
		logTo:  os.Stderr,
		getenv: os.Getenv,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, newRootCmd(a), os.Args[1:], a.errOut)
	stop()
	os.Exit(code)
}
