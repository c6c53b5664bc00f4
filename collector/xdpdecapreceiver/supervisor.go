// The daemon's supervisor: starts it (fixed executable, clean environment, parent-death signal), restarts it with backoff, stops it with SIGTERM then SIGKILL.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.uber.org/zap"
)

// Supervision timings; tests shorten them.
type timings struct {
	// restartDelay is the first delay before restarting a daemon that exited; it doubles up to maxRestartDelay.
	restartDelay    time.Duration
	maxRestartDelay time.Duration
	// healthyAfter: a daemon that ran this long before exiting restarts after restartDelay again.
	healthyAfter time.Duration
	// stopGrace is how long Shutdown waits after SIGTERM (detach and last export) before SIGKILL, when its
	// context has no deadline of its own (the Collector's has none).
	stopGrace time.Duration
	// pipeDrain is how long an exited daemon's pipes may stay open (a stray process of its group holding them)
	// before that group is killed.
	pipeDrain time.Duration
}

// defaultTimings. The stop budget: systemd kills the whole Collector TimeoutStopSec after SIGTERM
// (otelcol-xdp-decap.service; budgeted here at 20 s, as xdp-decap.service has). Receivers stop first, then the exporters and the Collector's
// own telemetry (under a second with the packaged config). The daemon detaches and sends its last export in
// under a second, and gives that export 5 s at most; 10 s of grace plus pipeDrain (2 s) at worst leaves the rest
// of the Collector 8 s of 20, where 15 s would leave 3. receiver_test.go checks the sum against the unit file.
var defaultTimings = timings{
	restartDelay:    time.Second,
	maxRestartDelay: 30 * time.Second,
	healthyAfter:    30 * time.Second,
	stopGrace:       10 * time.Second,
	pipeDrain:       2 * time.Second,
}

// exitUsage is the daemon's exit code for a config or environment it can never run with (bad config, no
// permission to load BPF, no libbpf): restarting cannot help, so it is a permanent error.
const exitUsage = 2

// daemonConfigFile is the daemon config's name in the private directory.
const daemonConfigFile = "config.json"

// daemonSearchPath is the PATH the daemon and its validator get: fixed, never the Collector's.
const daemonSearchPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// supervisor runs one daemon at a time from a private directory holding its config, until stop.
type supervisor struct {
	logger  *zap.Logger
	daemon  daemonCommand
	timings timings
	// dir is the private directory: the daemon's working directory, holding its config.
	dir string
	// interfaces are the configured interface names, for the start line of the log.
	interfaces []string
	next       consumer.Metrics
	report     func(*componentstatus.Event)

	mu       sync.Mutex
	stopping bool
	child    *exec.Cmd
}

func (s *supervisor) configPath() string {
	return filepath.Join(s.dir, daemonConfigFile)
}

func (s *supervisor) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// run runs the daemon until ctx ends or stop, restarting it with backoff when it exits.
func (s *supervisor) run(ctx context.Context) {
	if err := s.daemon.check(); err != nil {
		s.logger.Error("xdp_decap receiver cannot run", zap.Error(err))
		s.report(componentstatus.NewPermanentErrorEvent(err))
		return
	}
	delay := s.timings.restartDelay
	for {
		began := time.Now()
		res := s.runOnce(ctx)
		if ctx.Err() != nil || s.isStopping() {
			return
		}
		if res.startErr != nil {
			s.logger.Error("cannot start the xdp-decap daemon", zap.Error(res.startErr))
			s.report(componentstatus.NewPermanentErrorEvent(res.startErr))
			return
		}
		why := res.describe()
		if res.code == exitUsage {
			err := fmt.Errorf("xdp-decap daemon refused to run (%s); fix it and restart the collector", why)
			s.logger.Error("xdp-decap daemon cannot run with this config or on this host; not restarting", zap.Error(err))
			s.report(componentstatus.NewPermanentErrorEvent(err))
			return
		}
		if time.Since(began) >= s.timings.healthyAfter {
			delay = s.timings.restartDelay
		}
		err := fmt.Errorf("xdp-decap daemon exited (%s); restarting in %s", why, delay)
		s.logger.Warn("xdp-decap daemon exited; restarting: its counters start from zero (a counter reset)", zap.String("exit", why), zap.Duration("delay", delay))
		s.report(componentstatus.NewRecoverableErrorEvent(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, s.timings.maxRestartDelay)
	}
}

type runResult struct {
	startErr  error
	code      int
	signal    string
	lastError string
}

func (res runResult) describe() string {
	how := fmt.Sprintf("exit code %d", res.code)
	if res.signal != "" {
		how = "killed by " + res.signal
	}
	if res.lastError != "" {
		how += ": " + res.lastError
	}
	return how
}

// runOnce starts the daemon and returns when it has exited and its pipes are drained.
func (s *supervisor) runOnce(ctx context.Context) runResult {
	// Pdeathsig fires when the *thread* that started the child exits, not the process: keep this goroutine on
	// one thread, which then cannot be reused and ended by another goroutine, until the child is reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	metricsRead, metricsWrite, err := os.Pipe()
	if err != nil {
		return runResult{startErr: fmt.Errorf("creating the metrics pipe: %w", err)}
	}
	logRead, logWrite, err := os.Pipe()
	if err != nil {
		metricsRead.Close()
		metricsWrite.Close()
		return runResult{startErr: fmt.Errorf("creating the log pipe: %w", err)}
	}
	// The log level, like every other setting, is in the config file.
	cmd := exec.Command(s.daemon.path, append(slices.Clone(s.daemon.args), "run", "--config", s.configPath())...)
	cmd.Dir = s.dir
	cmd.Env = daemonEnv()
	cmd.Stdin = nil
	cmd.Stdout = logWrite
	cmd.Stderr = logWrite
	cmd.ExtraFiles = []*os.File{metricsWrite} // fd 3
	// Own process group (signalled as a whole) and SIGKILL if the Collector dies: the kernel then detaches the
	// daemon's bpf_links, so traffic flows on, encapsulated.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	s.mu.Lock()
	if s.stopping || ctx.Err() != nil {
		s.mu.Unlock()
		metricsRead.Close()
		metricsWrite.Close()
		logRead.Close()
		logWrite.Close()
		return runResult{}
	}
	err = cmd.Start()
	if err == nil {
		s.child = cmd
	}
	s.mu.Unlock()
	metricsWrite.Close()
	logWrite.Close()
	if err != nil {
		metricsRead.Close()
		logRead.Close()
		return runResult{startErr: fmt.Errorf("starting %s: %w", s.daemon.path, err)}
	}
	pid := cmd.Process.Pid
	logger := s.logger.With(zap.Int("daemon_pid", pid))
	logger.Info("xdp-decap daemon started", zap.Strings("interfaces", s.interfaces))

	var wg sync.WaitGroup
	health := newRunHealth()
	wg.Add(2)
	go func() {
		defer wg.Done()
		forwardLogs(logRead, logger, health, s.report)
	}()
	go func() {
		defer wg.Done()
		readMetrics(metricsRead, logger, s.next, func() {
			if health.ok("", false) {
				s.report(componentstatus.NewEvent(componentstatus.StatusOK))
			}
		})
	}()
	waitErr := cmd.Wait()
	// The pipes close when the daemon and anything it started are gone. Should a stray grandchild hold them
	// open, kill the rest of the daemon's process group (its pgid stays reserved while a member lives).
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(s.timings.pipeDrain):
		logger.Warn("a process of the daemon's group still holds its pipes: SIGKILL to the group")
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-drained
	}
	s.mu.Lock()
	s.child = nil
	s.mu.Unlock()

	res := runResult{lastError: health.lastError()}
	var exitErr *exec.ExitError
	if errors.As(waitErr, &exitErr) {
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			res.signal = status.Signal().String()
			res.code = -1
		} else {
			res.code = exitErr.ExitCode()
		}
	} else if waitErr != nil {
		res.code = -1
		res.lastError = waitErr.Error()
	}
	logger.Info("xdp-decap daemon exited", zap.String("exit", res.describe()))
	return res
}

// stop ends supervision: no new start, no more status; SIGTERM to the daemon's process group and SIGKILL at the
// deadline if it has not exited by then.
func (s *supervisor) stop(deadline time.Time) {
	s.mu.Lock()
	s.stopping = true
	child := s.child
	s.mu.Unlock()
	if child == nil || child.Process == nil {
		return
	}
	pid := child.Process.Pid
	s.logger.Info("stopping the xdp-decap daemon (SIGTERM: detach, last export)", zap.Int("pid", pid))
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	exited := s.childExited(child)
	select {
	case <-exited:
	case <-timer.C:
		s.logger.Warn("the xdp-decap daemon did not exit after SIGTERM before the shutdown deadline: SIGKILL", zap.Int("pid", pid))
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// childExited is closed when runOnce has reaped child.
func (s *supervisor) childExited(child *exec.Cmd) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			s.mu.Lock()
			same := s.child == child
			s.mu.Unlock()
			if !same {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return ch
}

// daemonEnv is the daemon's whole environment: a fixed PATH and the two settings of the private channel; nothing
// of the Collector's environment (no OTEL_* that would redirect the export, no credentials).
func daemonEnv() []string {
	return []string{
		daemonSearchPath,
		"XDP_DECAP_METRICS_FD=3",
		"XDP_DECAP_LOG_FORMAT=json",
	}
}
