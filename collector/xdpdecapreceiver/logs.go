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

// "interface ens1f0: attached in generic mode, ...": the interface becomes a structured field.
var interfacePrefix = regexp.MustCompile(`^interface (\S+): `)

type lastLine struct {
	mu   sync.Mutex
	line string
}

func newLastLine() *lastLine { return &lastLine{} }

func (l *lastLine) set(s string) { l.mu.Lock(); l.line = s; l.mu.Unlock() }

func (l *lastLine) get() string { l.mu.Lock(); defer l.mu.Unlock(); return l.line }

// parseDaemonLine turns one line into a level, message and fields. Lines that are not JSON (a fatal error
// printed by the CLI before its logger exists, a Node.js warning) are logged as errors, unchanged.
func parseDaemonLine(text string) (zapcore.Level, string, []zap.Field) {
	var line daemonLine
	if err := json.Unmarshal([]byte(text), &line); err != nil || line.Msg == "" {
		return zapcore.ErrorLevel, text, nil
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
	return level, msg, fields
}

// forwardLogs logs each line of the daemon's stdout/stderr; error lines are also reported as a recoverable error
// status (e.g. an interface refused because another XDP program is attached), and "attached" lines as OK.
func forwardLogs(pipe io.ReadCloser, logger *zap.Logger, lastError *lastLine, report func(*componentstatus.Event)) {
	defer pipe.Close()
	scanner := bufio.NewScanner(pipe)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		text := strings.TrimSpace(scanner.Text())
		if text == "" {
			continue
		}
		level, msg, fields := parseDaemonLine(text)
		if ce := logger.Check(level, msg); ce != nil {
			ce.Write(append(fields, zap.String("source", "xdp-decap"))...)
		}
		full := msg
		for _, f := range fields {
			if f.Key == "interface" {
				full = "interface " + f.String + ": " + msg
			}
		}
		switch {
		case level >= zapcore.ErrorLevel:
			lastError.set(full)
			report(componentstatus.NewRecoverableErrorEvent(errors.New(full)))
		case strings.HasPrefix(msg, "attached in "):
			report(componentstatus.NewEvent(componentstatus.StatusOK))
		}
	}
	_, _ = io.Copy(io.Discard, pipe)
}
