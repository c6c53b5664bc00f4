// The fake daemon (the test binary itself: serving metrics, crashing, hanging on SIGTERM, exiting at once) and the supervision tests' fixture.

package xdpdecapreceiver

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
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

// runAsFakeDaemonIfAsked turns the test binary into a fake daemon when the receiver starts it with helperArg;
// the generated TestMain (generated_package_test.go, metadata.yaml tests.goleak.setup) calls it first.
func runAsFakeDaemonIfAsked() {
	if len(os.Args) > 2 && os.Args[1] == helperArg {
		os.Exit(fakeDaemon(os.Args[2], os.Args[3:]))
	}
}

// fakeDaemon behaves as `mode` says; args are what the receiver appended (run --config FILE).
func fakeDaemon(mode string, args []string) int {
	if len(args) != 3 || args[0] != "run" || args[1] != "--config" {
		fmt.Fprintf(os.Stderr, "fake daemon: unexpected arguments %q\n", args)
		return 9
	}
	config, err := os.ReadFile(args[2])
	if err != nil {
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
		log("error", "loading the decap program: EPERM (operation not permitted)")
		fmt.Fprintln(os.Stderr, "xdp-decap run: loading the decap program: EPERM (operation not permitted): this process has none of CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON")
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
	log("info", "config: "+strings.Join(strings.Fields(string(config)), " "))
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
	// As the Collector's logger: a stack trace on every error line, unless the receiver turns it off.
	settings.Logger = zap.New(core, zap.AddStacktrace(zapcore.ErrorLevel))
	cfg := createDefaultConfig()
	cfg.settings = map[string]any{"interfaces": []any{map[string]any{"name": "cap0"}}, "log_level": "debug", "collection_interval": "1m30s"}
	sink := new(consumertest.MetricsSink)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(settings, cfg, sink, daemonCommand{path: self, args: []string{helperArg, mode}, files: []string{self}})
	r.timings = timings{restartDelay: 100 * time.Millisecond, maxRestartDelay: 400 * time.Millisecond, healthyAfter: time.Minute, stopGrace: 3 * time.Second, pipeDrain: 2 * time.Second}
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
