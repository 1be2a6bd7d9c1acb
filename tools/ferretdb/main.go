// Command ferretdb-launcher runs an embedded FerretDB (SQLite handler): the
// project's MongoDB-wire server for the embedded stack and the test harness.
// Embedding the ferretdb package avoids `go install` of FerretDB's own cmd,
// which panics on a missing generated version file.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "data/ferretdb", "folder for the SQLite files")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	gated := flag.Bool("write-gate", true, "serialise write commands (see write_gate.go); false only to measure its cost")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatal("invalid -log-level %q: use debug, info, warn or error", *logLevel)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fatal("invalid -data %q: %v", *dataDir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		fatal("cannot create data folder %s: %v", abs, err)
	}

	listener := ferretdb.ListenerConfig{TCP: *listen}
	var ln net.Listener
	if *gated {
		// FerretDB itself listens on a private Unix socket; the public address is the write gate's.
		sockDir, err := os.MkdirTemp("", "ferretdb-")
		if err != nil {
			fatal("cannot create a folder for FerretDB's socket: %v", err)
		}
		defer os.RemoveAll(sockDir)
		listener = ferretdb.ListenerConfig{Unix: filepath.Join(sockDir, "ferretdb.sock")}
		if ln, err = net.Listen("tcp", *listen); err != nil {
			fatal("cannot start on %s: %v", *listen, err)
		}
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    logger,
	})
	if err != nil {
		fatal("cannot start on %s: %v", *listen, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go indexIDs(ctx, abs, logger)
	uri := f.MongoDBURI()
	if ln != nil {
		gate := &writeGate{upstream: listener.Unix, logger: logger}
		go gate.serve(ln)
		context.AfterFunc(ctx, func() { ln.Close() })
		uri = fmt.Sprintf("mongodb://%s/", ln.Addr())
	}

	// The readiness line is parsed by tools/stack and the test harness.
	fmt.Printf("ready %s\n", uri)
	if err := f.Run(ctx); err != nil {
		fatal("stopped: %v", err)
	}
}

// indexIDs adds the index FerretDB v1.24's SQLite backend lacks: it looks documents up by
// _ferretdb_sjson->'$._id', while its own unique index is on ->"_id", which SQLite cannot
// use for that expression, so every {_id} lookup scanned the whole table (75 ms against
// 0.08 ms on 10,000 documents). New collections are picked up every two seconds. FerretDB
// opens its files in WAL mode with a 10 s busy timeout, so this second writer is safe.
func indexIDs(ctx context.Context, dir string, logger *slog.Logger) {
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := indexFile(ctx, file); err != nil && ctx.Err() == nil {
				logger.Warn("cannot add _id index", "file", file, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func indexFile(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table' AND t.name NOT LIKE '\_ferretdb\_%' ESCAPE '\'
		AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || '__id_path')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, t := range tables {
		q := strings.ReplaceAll(t, `"`, `""`)
		stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s__id_path" ON "%s" (_ferretdb_sjson->'$._id')`, q, q)
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-launcher: "+format+"\n", args...)
	os.Exit(1)
}
