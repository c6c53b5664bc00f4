// Supervision tests: the test binary itself plays the daemon (crashing, hanging on SIGTERM, exiting at once, serving metrics).

package xdpdecapreceiver

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"
)

const helperArg = "xdp-decap-test-helper"

// TestMain turns the test binary into a fake daemon when the receiver starts it with helperArg.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == helperArg {
		os.Exit(fakeDaemon(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// fakeDaemon behaves as `mode` says; args are what the receiver appended (run --config FILE --log-level LEVEL).
func fakeDaemon(mode string, args []string) int {
	if len(args) < 3 || args[0] != "run" || args[1] != "--config" {
		fmt.Fprintf(os.Stderr, "fake daemon: unexpected arguments %q\n", args)
		return 9
	}
	if _, err := os.Stat(args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "fake daemon: no config: %v\n", err)
		return 9
	}
	// One line per start in the private directory (the daemon's working directory).
	starts := appendLine("starts", fmt.Sprintf("%d %d", os.Getpid(), time.Now().UnixNano()))
	env := strings.Join(os.Environ(), " ")
	metrics := os.NewFile(3, "metrics")
	log := func(level, msg string) { fmt.Fprintf(os.Stderr, `{"level":%q,"msg":%q}`+"\n", level, msg) }
	switch mode {
	case "exit-now":
		return 0
	case "usage":
		fmt.Fprintln(os.Stderr, "xdp-decap run: cannot load the program: Operation not permitted (EPERM). You are not root")
		return 2
	case "refused":
		// An interface refused, exports going on, then (once the test creates "attach-now") attached after all.
		log("error", "interface cap0: another XDP program is attached: id 42 \"xdp_pass\" (generic mode); not taking over")
		time.Sleep(200 * time.Millisecond)
		attached := false
		for seq := int64(1); ; seq++ {
			if err := writeFrame(metrics, "decap.skipped.packet.count", seq); err != nil {
				return 1
			}
			if _, err := os.Stat("attach-now"); err == nil && !attached {
				attached = true
				log("info", "interface cap0: attached in generic mode, ifindex 7, link id 3")
			}
			time.Sleep(30 * time.Millisecond)
		}
	case "crash-once":
		if starts == 1 {
			log("error", "interface cap0: simulated crash")
			return 1
		}
		mode = "serve"
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	log("info", "env: "+env)
	log("info", "interface cap0: attached in generic mode, ifindex 7, link id 3")
	log("debug", "a debug line")
	log("warn", "interface cap1: does not exist; will attach when it appears")
	fmt.Fprintln(os.Stderr, "not json at all")
	seq := 0
	send := func(name string) {
		seq++
		if err := writeFrame(metrics, name, int64(seq)); err != nil {
			fmt.Fprintln(os.Stderr, "fake daemon: write:", err)
		}
	}
	ticker := time.NewTicker(50 * time.Millisecond)
	for {
		select {
		case <-ticker.C:
			if mode == "serve" {
				send("decap.tunnel.packet.count")
			}
		case <-sigs:
			if mode == "hang" {
				log("info", "ignoring SIGTERM")
				continue
			}
			send("last.export")
			return 0
		}
	}
}

func appendLine(file, line string) int {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	fmt.Fprintln(f, line)
	f.Close()
	body, _ := os.ReadFile(file)
	return strings.Count(string(body), "\n")
}

func writeFrame(w *os.File, name string, value int64) error {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := sum.DataPoints().AppendEmpty()
	dp.SetIntValue(value)
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		return err
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	_, err = w.Write(append(frame, body...))
	return err
}

// statusHost records the component status events the receiver reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		out = append(out, ev.Status().String())
	}
	return out
}

func (h *statusHost) lastError() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.events) - 1; i >= 0; i-- {
		if h.events[i].Err() != nil {
			return h.events[i].Err()
		}
	}
	return nil
}

type fixture struct {
	r    *xdpDecapReceiver
	host *statusHost
	sink *consumertest.MetricsSink
	logs *observer.ObservedLogs
}

func newFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	settings := receivertest.NewNopSettings(metadata.Type)
	settings.Logger = zap.New(core)
	cfg := createDefaultConfig()
	cfg.Interfaces = []InterfaceConfig{{Name: "cap0"}}
	cfg.LogLevel = "debug"
	sink := new(consumertest.MetricsSink)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(settings, cfg, sink, daemonCommand{path: self, args: []string{helperArg, mode}, files: []string{self}})
	r.timings = timings{restartDelay: 100 * time.Millisecond, maxRestartDelay: 400 * time.Millisecond, healthyAfter: time.Minute, stopGrace: 3 * time.Second}
	f := &fixture{r: r, host: &statusHost{Host: componenttest.NewNopHost()}, sink: sink, logs: logs}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return f
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// starts lists the pids of every daemon started so far.
func (f *fixture) starts() []int {
	var pids []int
	for _, s := range f.startLines() {
		pids = append(pids, s.pid)
	}
	return pids
}

type startLine struct {
	pid int
	at  time.Time
}

func (f *fixture) startLines() []startLine {
	body, _ := os.ReadFile(filepath.Join(f.r.dir, "starts"))
	var out []startLine
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		var pid int
		var ns int64
		_, _ = fmt.Sscanf(sc.Text(), "%d %d", &pid, &ns)
		out = append(out, startLine{pid, time.Unix(0, ns)})
	}
	return out
}

func (f *fixture) metricNames() []string {
	var names []string
	for _, md := range f.sink.AllMetrics() {
		names = append(names, md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Name())
	}
	return names
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie is dead for our purposes.
	body, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(body), ") Z ")
}

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
	if err := f.host.lastError(); err == nil || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Fatalf("the status names the daemon's reason: %v", err)
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
