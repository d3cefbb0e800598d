// Command scale fills the token table with millions of live and expired
// access-token rows and reports its size, for the scale benchmark
// (bench/scale/README.md, bench/scale/scale.sh):
//
//	go run ./bench/scale load -db URL -live 1000000 -expired 1000000
//	go run ./bench/scale sizes -db URL
//	go run ./bench/scale sweep -db URL
//	go run ./bench/scale plot -in points.tsv -out docs/bench/scale-p99.png
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	log.SetFlags(log.Ltime)
	if len(os.Args) < 2 {
		log.Fatal("usage: scale load|sizes|plot [flags]")
	}
	if err := run(context.Background(), os.Args[1], os.Args[2:]); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	db := fs.String("db", os.Getenv("DATABASE_URL"), "database URL (a migrated Strongroom database)")
	switch cmd {
	case "load":
		var o Options
		fs.Int64Var(&o.Live, "live", 0, "live access-token rows to add")
		fs.Int64Var(&o.Expired, "expired", 0, "expired access-token rows to add")
		fs.Int64Var(&o.Chunk, "chunk", 500_000, "rows per INSERT")
		fs.IntVar(&o.Clients, "clients", 8, "load clients to spread the rows over")
		fs.DurationVar(&o.Spread, "spread", 24*time.Hour, "how far the expiries of each group spread")
		fs.BoolVar(&o.KeepIndexes, "keep-indexes", false, "maintain indexes row by row instead of rebuilding them")
		_ = fs.Parse(args)
		o.Log = log.Printf
		pool, err := pgxpool.New(ctx, *db)
		if err != nil {
			return fmt.Errorf("scale: connect: %w", err)
		}
		defer pool.Close()
		start := time.Now()
		if err := Load(ctx, pool, o); err != nil {
			return err
		}
		log.Printf("loaded %d live + %d expired rows in %s", o.Live, o.Expired, time.Since(start).Round(time.Second))
		return nil
	case "sizes":
		_ = fs.Parse(args)
		pool, err := pgxpool.New(ctx, *db)
		if err != nil {
			return fmt.Errorf("scale: connect: %w", err)
		}
		defer pool.Close()
		s, err := Measure(ctx, pool)
		if err != nil {
			return err
		}
		fmt.Print(s)
		return nil
	case "sweep":
		leeway := fs.Duration("leeway", time.Minute, "delete rows that expired this long ago (the janitor's leeway)")
		timeout := fs.Duration("timeout", 0, "stop the sweep after this long (0: none) and report what it did")
		_ = fs.Parse(args)
		if *timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		r, err := Sweep(ctx, *db, time.Now().Add(-*leeway))
		fmt.Print(r)
		return err
	case "plot":
		in := fs.String("in", "", "points file: lines of <rows> <endpoint> <p50 ms> <p99 ms>")
		out := fs.String("out", "docs/bench/scale-p99.png", "PNG to write")
		_ = fs.Parse(args)
		return plotFile(*in, *out)
	}
	return fmt.Errorf("scale: unknown command %q", cmd)
}
