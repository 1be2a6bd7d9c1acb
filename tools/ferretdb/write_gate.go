package main

// The write gate gives the embedded FerretDB MongoDB's single-document atomicity.
//
// FerretDB v1.24 runs an update (and findAndModify) as: query the matching documents, apply the
// operators in Go, write the whole document back (internal/handler/msg_update.go), holding
// nothing in between. Two concurrent updates of one document therefore lose one of them, and a
// filtered update is no compare-and-set: the registry's latest-version counter, alias moves and
// token revocations all raced. The gate sits in front of FerretDB on the public address and lets
// one write command at a time through; reads pass freely. SQLite already allows a single writer,
// so the cost is only that a write's own query now waits for the previous write.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
)

const (
	opQuery      = 2004
	opCompressed = 2012
	opMsg        = 2013
	// MongoDB's maxMessageSizeBytes (48 MB) plus room for the header.
	maxMessageBytes = 48_000_000 + 1024
	flagMoreToCome  = 1 << 1
)

// Commands that never write. Everything else (including anything unknown) goes through the gate,
// so a command FerretDB adds later is serialised rather than allowed to race.
var readCommands = map[string]bool{
	"aggregate": true, "buildinfo": true, "collstats": true, "connectionstatus": true, "count": true,
	"datasize": true, "dbstats": true, "distinct": true, "endsessions": true, "explain": true, "find": true,
	"getcmdlineopts": true, "getlog": true, "getmore": true, "getparameter": true, "hello": true,
	"hostinfo": true, "ismaster": true, "killcursors": true, "listcollections": true, "listdatabases": true,
	"listindexes": true, "ping": true, "saslcontinue": true, "saslstart": true, "serverstatus": true,
	"whatsmyuri": true,
}

type writeGate struct {
	mu       sync.Mutex
	upstream string // FerretDB's Unix socket
	logger   *slog.Logger
}

func (g *writeGate) serve(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				g.logger.Error("write gate stopped accepting", "error", err)
			}
			return
		}
		go g.relay(client)
	}
}

// relay forwards one client connection. MongoDB drivers send a request and wait for its reply
// on a connection, so requests are handled one after another.
func (g *writeGate) relay(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("unix", g.upstream)
	if err != nil {
		g.logger.Error("cannot reach FerretDB", "socket", g.upstream, "error", err)
		return
	}
	defer server.Close()
	for {
		req, err := readMessage(client)
		if err != nil {
			return
		}
		if err := g.roundTrip(client, server, req); err != nil {
			return
		}
	}
}

func (g *writeGate) roundTrip(client, server net.Conn, req []byte) error {
	if mayWrite(req) {
		g.mu.Lock()
		defer g.mu.Unlock()
	}
	if _, err := server.Write(req); err != nil {
		return err
	}
	if msgFlags(req)&flagMoreToCome != 0 {
		return nil // fire-and-forget request: no reply comes
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if msgFlags(reply)&flagMoreToCome == 0 {
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	size := int(int32(binary.LittleEndian.Uint32(header[:4])))
	if size < len(header) || size > maxMessageBytes {
		return nil, fmt.Errorf("invalid message length %d", size)
	}
	msg := make([]byte, size)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[len(header):]); err != nil {
		return nil, err
	}
	return msg, nil
}

func opCode(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg[12:16])) }

func msgFlags(msg []byte) uint32 {
	if opCode(msg) != opMsg || len(msg) < 20 {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[16:20])
}

// mayWrite is false only for commands known to be reads and for the legacy OP_QUERY handshake.
func mayWrite(msg []byte) bool {
	switch opCode(msg) {
	case opQuery:
		return false
	case opMsg:
		name, ok := commandName(msg)
		return !ok || !readCommands[strings.ToLower(name)]
	default: // OP_COMPRESSED and anything else we cannot look into
		return true
	}
}

// commandName is the first key of an OP_MSG's body (section kind 0).
func commandName(msg []byte) (string, bool) {
	i := 20 // header + flagBits
	for i < len(msg) {
		kind := msg[i]
		i++
		if i+4 > len(msg) {
			return "", false
		}
		size := int(int32(binary.LittleEndian.Uint32(msg[i : i+4])))
		if size < 5 || i+size > len(msg) {
			return "", false
		}
		if kind == 0 {
			doc := msg[i : i+size]
			// int32 length, element type byte, then the key as a NUL-terminated string
			if len(doc) < 6 {
				return "", false
			}
			end := strings.IndexByte(string(doc[5:]), 0)
			if end < 0 {
				return "", false
			}
			return string(doc[5 : 5+end]), true
		}
		i += size // kind 1: a document sequence, whose size covers itself
	}
	return "", false
}
