// spdyclient: the last hop of kubectl exec and port-forward as client-go
// makes it (kubelet → container runtime), on Go's spdystream: upgrade the
// runtime's streaming URL to SPDY/3.1, open the streams in client-go's order
// and copy bytes. Built by scripts/make-runtime-fixtures.ts from Debian's
// golang-github-docker-spdystream-dev (GOPATH mode, no module downloads).
//
//	spdyclient exec URL STDIN_FILE [-tty] [-resize WxH ...] [-lines]
//	spdyclient portforward URL PORT PAYLOAD_FILE
//
// Prints one JSON line: what went out and came back per stream.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/spdystream"
)

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func upgrade(raw string, protocol string) (*spdystream.Connection, net.Conn) {
	u, err := url.Parse(raw)
	must(err)
	conn, err := net.Dial("tcp", u.Host)
	must(err)
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kubewire-fixture-spdyclient\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: %s\r\n\r\n", u.RequestURI(), u.Host, protocol)
	_, err = conn.Write([]byte(req))
	must(err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	must(err)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		must(fmt.Errorf("upgrade refused: %s", resp.Status))
	}
	sc, err := spdystream.NewConnection(bufConn{conn, br}, false)
	must(err)
	go sc.Serve(spdystream.NoOpStreamHandler)
	return sc, conn
}

func open(sc *spdystream.Connection, kv ...string) *spdystream.Stream {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	s, err := sc.CreateStream(h, nil, false)
	must(err)
	// client-go waits for each SYN_REPLY before the next stream
	must(s.WaitTimeout(30 * time.Second))
	return s
}

type counted struct {
	Bytes  int    `json:"bytes"`
	Sha256 string `json:"sha256"`
	Text   string `json:"text,omitempty"`
}

func readAll(s *spdystream.Stream, keepText bool) counted {
	b, _ := io.ReadAll(s)
	sum := sha256.Sum256(b)
	c := counted{Bytes: len(b), Sha256: hex.EncodeToString(sum[:])}
	if keepText {
		c.Text = string(b)
	}
	return c
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: spdyclient exec URL STDIN_FILE [-tty] [-resize WxH ...] [-lines] | portforward URL PORT PAYLOAD_FILE")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exec":
		execMode(os.Args[2], os.Args[3], os.Args[4:])
	case "portforward":
		portForward(os.Args[2], os.Args[3], os.Args[4])
	default:
		must(fmt.Errorf("unknown mode %s", os.Args[1]))
	}
}

func execMode(raw, stdinFile string, flags []string) {
	tty := false
	lines := false
	var resizes []string
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-tty":
			tty = true
		case "-lines":
			lines = true
		case "-resize":
			i++
			resizes = append(resizes, flags[i])
		}
	}
	input, err := os.ReadFile(stdinFile)
	must(err)
	sc, conn := upgrade(raw, "v4.channel.k8s.io")
	errS := open(sc, "streamType", "error")
	stdin := open(sc, "streamType", "stdin")
	stdout := open(sc, "streamType", "stdout")
	var stderr, resize *spdystream.Stream
	if tty {
		resize = open(sc, "streamType", "resize")
	} else {
		stderr = open(sc, "streamType", "stderr")
	}
	var wg sync.WaitGroup
	var out, errOut, status counted
	wg.Add(1)
	go func() { defer wg.Done(); out = readAll(stdout, false) }()
	if stderr != nil {
		wg.Add(1)
		go func() { defer wg.Done(); errOut = readAll(stderr, true) }()
	}
	sendResize := func(r string) {
		var w, h int
		fmt.Sscanf(r, "%dx%d", &w, &h)
		b, _ := json.Marshal(map[string]int{"Width": w, "Height": h})
		_, err := resize.Write(b)
		must(err)
	}
	if lines {
		// a TTY session: a resize before each line, a pause so the shell reacts to each
		for i, line := range strings.SplitAfter(string(input), "\n") {
			if line == "" {
				continue
			}
			if resize != nil && i < len(resizes) {
				sendResize(resizes[i])
				time.Sleep(100 * time.Millisecond)
			}
			_, err := stdin.Write([]byte(line))
			must(err)
			time.Sleep(150 * time.Millisecond)
		}
	} else {
		for _, r := range resizes {
			sendResize(r)
		}
		// io.Copy writes 32 KiB DATA frames, as client-go does
		_, err := io.Copy(stdin, strings.NewReader(string(input)))
		must(err)
	}
	// the process may have exited (and the server reset stdin) before: client-go ignores that too
	_ = stdin.Close()
	wg.Wait()
	status = readAll(errS, true)
	sc.Close()
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	sumIn := sha256.Sum256(input)
	res := map[string]any{
		"stdin":  counted{Bytes: len(input), Sha256: hex.EncodeToString(sumIn[:])},
		"stdout": out,
		"status": status.Text,
		"tty":    tty,
	}
	if stderr != nil {
		res["stderr"] = errOut
	}
	if resize != nil {
		res["resizes"] = resizes
	}
	must(json.NewEncoder(os.Stdout).Encode(res))
}

func portForward(raw, port, payloadFile string) {
	payload, err := os.ReadFile(payloadFile)
	must(err)
	sc, conn := upgrade(raw, "portforward.k8s.io")
	errS := open(sc, "streamType", "error", "port", port, "requestID", "0")
	// client-go writes nothing on the error stream: it closes its side at once
	must(errS.Close())
	data := open(sc, "streamType", "data", "port", port, "requestID", "0")
	var wg sync.WaitGroup
	var back, errText counted
	wg.Add(2)
	go func() { defer wg.Done(); back = readAll(data, false) }()
	go func() { defer wg.Done(); errText = readAll(errS, true) }()
	_, err = io.Copy(data, strings.NewReader(string(payload)))
	must(err)
	must(data.Close())
	wg.Wait()
	sc.Close()
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	sum := sha256.Sum256(payload)
	must(json.NewEncoder(os.Stdout).Encode(map[string]any{
		"sent":     counted{Bytes: len(payload), Sha256: hex.EncodeToString(sum[:])},
		"received": back,
		"error":    errText.Text,
	}))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "spdyclient:", err)
		os.Exit(1)
	}
}
