// Supervision tests: Start, Shutdown, restarts, status and logs, with the test binary as the daemon (fakedaemon_test.go).

package xdpdecapreceiver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"
)

func TestShutdownWithoutStartAndTwice(t *testing.T) {
	r := newReceiver(receivertest.NewNopSettings(metadata.Type), createDefaultConfig(), new(consumertest.MetricsSink), builtDaemon())
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestForwardsMetricsLogsAndTheLastExport(t *testing.T) {
	f := newFixture(t, "serve")
	began := time.Now()
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 500*time.Millisecond {
		t.Fatalf("Start took %s; it must return at once", took)
	}
	dir := f.r.dir
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("private directory %s: %v %v", dir, info.Mode(), err)
	}
	if info, err := os.Stat(f.r.configPath()); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v", err)
	}
	waitFor(t, "metrics from the daemon", func() bool { return f.sink.DataPointCount() >= 3 })
	waitFor(t, "status OK", func() bool { return strings.Contains(strings.Join(f.host.statuses(), ","), "StatusOK") })

	// Log lines at matching levels, the interface as a field, the environment cleaned.
	entry := func(msg string) observer.LoggedEntry {
		t.Helper()
		var found []observer.LoggedEntry
		waitFor(t, "log line "+msg, func() bool {
			found = f.logs.FilterMessageSnippet(msg).All()
			return len(found) > 0
		})
		return found[0]
	}
	if e := entry("attached in generic mode"); e.Level != zapcore.InfoLevel || e.ContextMap()["interface"] != "cap0" {
		t.Errorf("attached line: %v %v", e.Level, e.ContextMap())
	}
	if e := entry("does not exist; will attach"); e.Level != zapcore.WarnLevel || e.ContextMap()["interface"] != "cap1" {
		t.Errorf("warn line: %v %v", e.Level, e.ContextMap())
	}
	if e := entry("a debug line"); e.Level != zapcore.DebugLevel {
		t.Errorf("debug line: %v", e.Level)
	}
	if e := entry("not json at all"); e.Level != zapcore.WarnLevel {
		t.Errorf("plain line: %v", e.Level)
	}
	env := entry("env: ").Message
	for _, bad := range []string{"HOME=", "GOFLAGS=", "OTEL_"} {
		if strings.Contains(env, bad) {
			t.Errorf("the daemon's environment is not clean: %s", env)
		}
	}
	if !strings.Contains(env, "XDP_DECAP_METRICS_FD=3") {
		t.Errorf("daemon env: %s", env)
	}
	// The config it was given: the converted receiver config, the log level in it.
	if config := entry("config: ").Message; !strings.Contains(config, `"logLevel": "debug"`) || !strings.Contains(config, `"exportIntervalSeconds": 90`) {
		t.Errorf("the daemon's config: %s", config)
	}

	pid := f.starts()[0]
	if err := f.r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	names := f.metricNames()
	if names[len(names)-1] != "last.export" {
		t.Errorf("the daemon's last export (sent after SIGTERM) was not forwarded before Shutdown returned: %v", names[len(names)-3:])
	}
	if alive(pid) {
		t.Errorf("daemon %d still running after Shutdown", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("private directory left: %v", err)
	}
	if len(f.starts()) != 0 { // the directory is gone
		t.Errorf("starts: %v", f.starts())
	}
	if err := f.r.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestRestartsACrashedDaemonAndReportsStatus(t *testing.T) {
	f := newFixture(t, "crash-once")
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "metrics from the restarted daemon", func() bool { return f.sink.DataPointCount() > 0 })
	waitFor(t, "status OK after the restart", func() bool {
		s := strings.Join(f.host.statuses(), ",")
		return strings.Contains(s, "StatusRecoverableError") && strings.HasSuffix(s, "StatusOK")
	})
	if got := len(f.starts()); got != 2 {
		t.Fatalf("starts: %d, want 2", got)
	}
	s := f.host.statuses()
	firstErr := -1
	for i, st := range s {
		if st == "StatusRecoverableError" && firstErr < 0 {
			firstErr = i
		}
	}
	if firstErr < 0 || s[len(s)-1] != "StatusOK" {
		t.Fatalf("statuses %v", s)
	}
	found := false
	for _, e := range f.logs.FilterMessageSnippet("daemon exited; restarting").All() {
		found = found || strings.Contains(e.ContextMap()["exit"].(string), "exit code 1: interface cap0: simulated crash")
	}
	if !found {
		t.Errorf("the restart is logged with the daemon's last error: %v", f.logs.FilterMessageSnippet("restarting").All())
	}
}

func TestARefusedInterfaceStaysAnErrorWhileExportsGoOnUntilItAttaches(t *testing.T) {
	f := newFixture(t, "refused")
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "exports after the refusal", func() bool { return f.sink.DataPointCount() >= 5 })
	s := f.host.statuses()
	if len(s) == 0 || s[len(s)-1] != "StatusRecoverableError" {
		t.Fatalf("exports must not hide the refused interface: %v", s)
	}
	if err := f.host.lastError(); err == nil || !strings.Contains(err.Error(), `interface cap0: another XDP program is attached: id 42 "xdp_pass"`) {
		t.Fatalf("the status names the interface and the reason: %v", err)
	}
	if err := os.WriteFile(filepath.Join(f.r.dir, "attach-now"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "OK once the interface attaches", func() bool {
		s := f.host.statuses()
		return s[len(s)-1] == "StatusOK"
	})
	if n := len(f.starts()); n != 1 {
		t.Fatalf("a refused interface does not restart the daemon: %d starts", n)
	}
}

func TestADaemonThatExitsAtOnceIsRestartedWithBackoff(t *testing.T) {
	f := newFixture(t, "exit-now")
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four starts", func() bool { return len(f.starts()) >= 4 })
	// Delays of 100, 200 and 400 ms between them, on top of the same start-up time each.
	s := f.startLines()
	gaps := []time.Duration{s[1].at.Sub(s[0].at), s[2].at.Sub(s[1].at), s[3].at.Sub(s[2].at)}
	if gaps[0] < 100*time.Millisecond || gaps[1] < 200*time.Millisecond || gaps[2] < 400*time.Millisecond || gaps[2]-gaps[0] < 200*time.Millisecond {
		t.Fatalf("gaps between starts %v; want backoff 100, 200, 400 ms", gaps)
	}
	for _, st := range f.host.statuses() {
		if st == "StatusOK" {
			t.Fatalf("never OK: %v", f.host.statuses())
		}
	}
	if err := f.host.lastError(); err == nil || !strings.Contains(err.Error(), "restarting in") {
		t.Fatalf("last error: %v", err)
	}
	if err := f.r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAnUnrunnableDaemonIsAPermanentErrorAndNotRestarted(t *testing.T) {
	f := newFixture(t, "usage")
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a permanent error", func() bool { return strings.Contains(strings.Join(f.host.statuses(), ","), "StatusPermanentError") })
	time.Sleep(400 * time.Millisecond)
	if n := len(f.starts()); n != 1 {
		t.Fatalf("started %d times; a config it cannot run is not retried", n)
	}
	if err := f.host.lastError(); err == nil || !strings.Contains(err.Error(), "this process has none of CAP_BPF") {
		t.Fatalf("the status names the daemon's reason: %v", err)
	}
	// Its error lines and the receiver's own keep their level and carry no Go stack (which would point here).
	errorLines := f.logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errorLines) < 3 {
		t.Fatalf("the daemon's two error lines and the receiver's: %v", errorLines)
	}
	for _, e := range errorLines {
		if e.Stack != "" {
			t.Errorf("a stack trace on %q:\n%s", e.Message, e.Stack)
		}
	}
}

func TestADaemonThatIgnoresSIGTERMIsKilledAtTheDeadline(t *testing.T) {
	f := newFixture(t, "hang")
	if err := f.r.Start(context.Background(), f.host); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the daemon running", func() bool { return len(f.starts()) == 1 && len(f.logs.FilterMessageSnippet("attached").All()) > 0 })
	pid := f.starts()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	began := time.Now()
	_ = f.r.Shutdown(ctx)
	took := time.Since(began)
	if took < 600*time.Millisecond || took > 3*time.Second {
		t.Fatalf("Shutdown took %s; want SIGKILL at the 700 ms deadline", took)
	}
	if alive(pid) {
		t.Fatalf("daemon %d survived SIGKILL", pid)
	}
	if len(f.logs.FilterMessageSnippet("ignoring SIGTERM").All()) == 0 || len(f.logs.FilterMessageSnippet("SIGKILL").All()) == 0 {
		t.Fatalf("SIGTERM first, then SIGKILL: %v", f.logs.All())
	}
}

// The daemon dies with the Collector: a process hosting the receiver is killed with SIGKILL.
func TestTheDaemonDiesWithTheCollector(t *testing.T) {
	if os.Getenv("XDP_DECAP_TEST_HOST") == "1" {
		f := newFixture(t, "hang")
		if err := f.r.Start(context.Background(), f.host); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the daemon", func() bool { return len(f.starts()) == 1 })
		fmt.Printf("daemon-pid %d\n", f.starts()[0])
		time.Sleep(time.Minute)
		return
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestTheDaemonDiesWithTheCollector$")
	// The killed host cannot remove its private directory: keep it in a directory the test removes.
	cmd.Env = append(os.Environ(), "XDP_DECAP_TEST_HOST=1", "TMPDIR="+t.TempDir())
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	pid := 0
	for pid == 0 && sc.Scan() {
		_, _ = fmt.Sscanf(sc.Text(), "daemon-pid %d", &pid)
	}
	if pid == 0 {
		t.Fatal("the hosting process printed no daemon pid")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	waitFor(t, "the daemon to die with its parent", func() bool { return !alive(pid) })
}

// Shutdown's worst case (grace, then the pipes' drain) plus the rest of the Collector's shutdown fits in the stop
// timeout of the unit that runs it, so systemd never kills the Collector mid-shutdown.
func TestShutdownFitsTheUnitsStopTimeout(t *testing.T) {
	// The exporters and the Collector's own telemetry after the receivers: under a second with the packaged
	// config; 5 s of room.
	const restOfCollector = 5 * time.Second
	unit, err := os.ReadFile(filepath.Join(repoRoot(t), "packaging", "otelcol-xdp-decap", "otelcol-xdp-decap.service"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\S+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("otelcol-xdp-decap.service sets no TimeoutStopSec")
	}
	value := string(m[1])
	if _, plain := strconv.Atoi(value); plain == nil {
		value += "s" // systemd reads a bare number as seconds
	}
	limit, err := time.ParseDuration(value)
	if err != nil {
		t.Fatalf("TimeoutStopSec=%s: %v", m[1], err)
	}
	if worst := defaultTimings.stopGrace + defaultTimings.pipeDrain + restOfCollector; worst > limit {
		t.Fatalf("shutdown may take %s (grace %s, pipe drain %s, the rest %s), more than the unit's TimeoutStopSec=%s",
			worst, defaultTimings.stopGrace, defaultTimings.pipeDrain, restOfCollector, limit)
	}
}
