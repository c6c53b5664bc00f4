// The daemon's log lines (JSON, XDP_DECAP_LOG_FORMAT=json) into the Collector's zap logger at matching levels.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// daemonLine is one line of the daemon's JSON log (src/plugin/logger.ts).
type daemonLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// withoutStacktrace keeps Go stack traces off a logger's lines at every level. The Collector's logger adds one to
// each error line; on a line the daemon wrote, or one about the daemon's config or host, it would show where
// this receiver logs, never the cause.
var withoutStacktrace = zap.AddStacktrace(zap.LevelEnablerFunc(func(zapcore.Level) bool { return false }))

// "interface ens1f0: attached in generic mode, ...": the interface becomes a structured field.
var interfacePrefix = regexp.MustCompile(`^interface (\S+): `)

// runHealth is one daemon run's health as its log and exports show it: the last error line, and which
// interfaces have an unresolved error ("" for errors about no interface, cleared only by a restart).
type runHealth struct {
	mu      sync.Mutex
	last    string
	failing map[string]bool
}

func newRunHealth() *runHealth { return &runHealth{failing: map[string]bool{}} }

func (h *runHealth) lastError() string { h.mu.Lock(); defer h.mu.Unlock(); return h.last }

func (h *runHealth) fail(itf, line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = line
	h.failing[itf] = true
}

// ok clears itf's error (when itf is not empty) and says whether nothing is failing any more.
func (h *runHealth) ok(itf string, clear bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if clear {
		delete(h.failing, itf)
	}
	return len(h.failing) == 0
}

// parseDaemonLine turns one line into a level, message and fields, and says whether it was a JSON log record.
// Other lines are logged unchanged: the CLI's fatal "xdp-decap <command>: ..." line (printed as it exits) as an
// error, anything else (a Node.js warning) as a warning.
func parseDaemonLine(text string) (zapcore.Level, string, []zap.Field, bool) {
	var line daemonLine
	if err := json.Unmarshal([]byte(text), &line); err != nil || line.Msg == "" {
		if strings.HasPrefix(text, "xdp-decap ") {
			return zapcore.ErrorLevel, text, nil, false
		}
		return zapcore.WarnLevel, text, nil, false
	}
	level := zapcore.InfoLevel
	switch line.Level {
	case "debug":
		level = zapcore.DebugLevel
	case "warn":
		level = zapcore.WarnLevel
	case "error":
		level = zapcore.ErrorLevel
	}
	var fields []zap.Field
	msg := line.Msg
	if m := interfacePrefix.FindStringSubmatch(msg); m != nil {
		fields = append(fields, zap.String("interface", m[1]))
		msg = strings.TrimPrefix(msg, m[0])
	}
	return level, msg, fields, true
}

// forwardLogs logs each line of the daemon's stdout/stderr at its level (the receiver's logger adds no Go stack: withoutStacktrace); error lines are also reported as a recoverable error
// status (e.g. an interface refused because another XDP program is attached), and an interface attached after
// its error as OK once no interface is failing.
func forwardLogs(pipe io.ReadCloser, logger *zap.Logger, health *runHealth, report func(*componentstatus.Event)) {
	defer pipe.Close()
	scanner := bufio.NewScanner(pipe)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		text := strings.TrimSpace(scanner.Text())
		if text == "" {
			continue
		}
		level, msg, fields, record := parseDaemonLine(text)
		if ce := logger.Check(level, msg); ce != nil {
			ce.Write(append(fields, zap.String("source", "xdp-decap"))...)
		}
		full, itf := msg, ""
		for _, f := range fields {
			if f.Key == "interface" {
				itf = f.String
				full = "interface " + itf + ": " + msg
			}
		}
		switch {
		case level >= zapcore.ErrorLevel && !record:
			health.fail("exit", full) // the daemon is exiting: the supervisor reports it with this line
		case level >= zapcore.ErrorLevel:
			health.fail(itf, full)
			report(componentstatus.NewRecoverableErrorEvent(errors.New(full)))
		case itf != "" && strings.HasPrefix(msg, "attached in ") && health.ok(itf, true):
			report(componentstatus.NewEvent(componentstatus.StatusOK))
		}
	}
	_, _ = io.Copy(io.Discard, pipe)
}
