// The xdp_decap receiver: supervises the xdp-decap daemon as a child process and forwards its metrics from a private pipe.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
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
	// context has no deadline of its own.
	stopGrace time.Duration
}

var defaultTimings = timings{restartDelay: time.Second, maxRestartDelay: 30 * time.Second, healthyAfter: 30 * time.Second, stopGrace: 15 * time.Second}

// exitUsage is the daemon's exit code for a config or environment it can never run with (bad config, no
// permission to load BPF, no libbpf): restarting cannot help, so it is a permanent error.
const exitUsage = 2

type xdpDecapReceiver struct {
	settings receiver.Settings
	logger   *zap.Logger
	cfg      *Config
	next     consumer.Metrics
	daemon   daemonCommand
	timings  timings

	mu       sync.Mutex
	started  bool
	stopping bool
	cancel   context.CancelFunc
	done     chan struct{}
	dir      string
	child    *exec.Cmd
	host     component.Host
	shutdown sync.Once
	stopErr  error
}

func newReceiver(settings receiver.Settings, cfg *Config, next consumer.Metrics, daemon daemonCommand) *xdpDecapReceiver {
	return &xdpDecapReceiver{settings: settings, logger: settings.Logger, cfg: cfg, next: next, daemon: daemon, timings: defaultTimings}
}

// Start writes the daemon's config into a private directory and starts supervising the daemon; it returns at once.
// Problems the daemon meets (an interface refused, missing capabilities) are reported as component status, never
// as an error here, so they cannot stop the Collector or its other pipelines.
func (r *xdpDecapReceiver) Start(_ context.Context, host component.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("xdp_decap receiver already started")
	}
	r.started = true
	r.host = host
	dir, err := os.MkdirTemp("", "xdp-decap-receiver-") // 0700
	if err != nil {
		return fmt.Errorf("xdp_decap: creating a private directory for the daemon's config: %w", err)
	}
	r.dir = dir
	body, err := r.cfg.daemonConfigJSON()
	if err == nil {
		err = os.WriteFile(r.configPath(), body, 0o600)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		r.dir = ""
		return fmt.Errorf("xdp_decap: writing the daemon's config in %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.supervise(ctx)
	}()
	return nil
}

func (r *xdpDecapReceiver) configPath() string {
	return filepath.Join(r.dir, "config.json")
}

// Shutdown stops the daemon (SIGTERM: it detaches and sends a last export, which is forwarded; SIGKILL when ctx's
// deadline, or the grace period, passes), then removes the private directory. Idempotent; safe without Start.
func (r *xdpDecapReceiver) Shutdown(ctx context.Context) error {
	r.shutdown.Do(func() {
		r.mu.Lock()
		r.stopping = true
		cancel, done, dir := r.cancel, r.done, r.dir
		r.mu.Unlock()
		if cancel == nil {
			return
		}
		grace, has := ctx.Deadline()
		if !has {
			grace = time.Now().Add(r.timings.stopGrace)
		}
		r.stopChild(grace)
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			r.stopErr = fmt.Errorf("xdp_decap: shutdown: %w", ctx.Err())
		}
		if dir != "" {
			if err := os.RemoveAll(dir); err != nil {
				r.stopErr = errors.Join(r.stopErr, fmt.Errorf("xdp_decap: removing %s: %w", dir, err))
			}
		}
	})
	return r.stopErr
}

// stopChild sends SIGTERM to the daemon's process group and SIGKILL at the deadline if it has not exited.
func (r *xdpDecapReceiver) stopChild(deadline time.Time) {
	r.mu.Lock()
	child := r.child
	r.mu.Unlock()
	if child == nil || child.Process == nil {
		return
	}
	pid := child.Process.Pid
	r.logger.Info("stopping the xdp-decap daemon (SIGTERM: detach, last export)", zap.Int("pid", pid))
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	exited := r.childExited(child)
	select {
	case <-exited:
	case <-timer.C:
		r.logger.Warn("the xdp-decap daemon did not exit after SIGTERM before the shutdown deadline: SIGKILL", zap.Int("pid", pid))
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// childExited is closed when the supervisor has reaped child.
func (r *xdpDecapReceiver) childExited(child *exec.Cmd) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			r.mu.Lock()
			same := r.child == child
			r.mu.Unlock()
			if !same {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return ch
}

func (r *xdpDecapReceiver) isStopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopping
}

func (r *xdpDecapReceiver) report(ev *componentstatus.Event) {
	r.mu.Lock()
	host, stopping := r.host, r.stopping
	r.mu.Unlock()
	if host != nil && !stopping {
		componentstatus.ReportStatus(host, ev)
	}
}

// supervise runs the daemon until ctx ends, restarting it with backoff when it exits.
func (r *xdpDecapReceiver) supervise(ctx context.Context) {
	if err := r.daemon.check(); err != nil {
		r.logger.Error("xdp_decap receiver cannot run", zap.Error(err))
		r.report(componentstatus.NewPermanentErrorEvent(err))
		return
	}
	delay := r.timings.restartDelay
	for {
		began := time.Now()
		res := r.runOnce(ctx)
		if ctx.Err() != nil || r.isStopping() {
			return
		}
		if res.startErr != nil {
			r.logger.Error("cannot start the xdp-decap daemon", zap.Error(res.startErr))
			r.report(componentstatus.NewPermanentErrorEvent(res.startErr))
			return
		}
		why := res.describe()
		if res.code == exitUsage {
			err := fmt.Errorf("xdp-decap daemon refused to run (%s); fix it and restart the collector", why)
			r.logger.Error("xdp-decap daemon cannot run with this config or on this host; not restarting", zap.Error(err))
			r.report(componentstatus.NewPermanentErrorEvent(err))
			return
		}
		if time.Since(began) >= r.timings.healthyAfter {
			delay = r.timings.restartDelay
		}
		err := fmt.Errorf("xdp-decap daemon exited (%s); restarting in %s", why, delay)
		r.logger.Warn("xdp-decap daemon exited; restarting: its counters start from zero (a counter reset)", zap.String("exit", why), zap.Duration("delay", delay))
		r.report(componentstatus.NewRecoverableErrorEvent(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, r.timings.maxRestartDelay)
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
func (r *xdpDecapReceiver) runOnce(ctx context.Context) runResult {
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
	args := append(append([]string{}, r.daemon.args...), "run", "--config", r.configPath(), "--log-level", r.cfg.LogLevel)
	cmd := exec.Command(r.daemon.path, args...)
	cmd.Dir = r.dir
	cmd.Env = daemonEnv()
	cmd.Stdin = nil
	cmd.Stdout = logWrite
	cmd.Stderr = logWrite
	cmd.ExtraFiles = []*os.File{metricsWrite} // fd 3
	// Own process group (signalled as a whole) and SIGKILL if the Collector dies: the kernel then detaches the
	// daemon's bpf_links, so traffic flows on, encapsulated.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	r.mu.Lock()
	if r.stopping || ctx.Err() != nil {
		r.mu.Unlock()
		metricsRead.Close()
		metricsWrite.Close()
		logRead.Close()
		logWrite.Close()
		return runResult{}
	}
	err = cmd.Start()
	if err == nil {
		r.child = cmd
	}
	r.mu.Unlock()
	metricsWrite.Close()
	logWrite.Close()
	if err != nil {
		metricsRead.Close()
		logRead.Close()
		return runResult{startErr: fmt.Errorf("starting %s: %w", r.daemon.path, err)}
	}
	pid := cmd.Process.Pid
	logger := r.logger.With(zap.Int("daemon_pid", pid))
	logger.Info("xdp-decap daemon started", zap.Strings("interfaces", r.cfg.interfaceNames()), zap.Duration("collection_interval", r.cfg.CollectionInterval))

	var wg sync.WaitGroup
	health := newRunHealth()
	wg.Add(2)
	go func() {
		defer wg.Done()
		forwardLogs(logRead, logger, health, r.report)
	}()
	go func() {
		defer wg.Done()
		readMetrics(metricsRead, logger, r.next, func() {
			if health.ok("", false) {
				r.report(componentstatus.NewEvent(componentstatus.StatusOK))
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
	case <-time.After(2 * time.Second):
		logger.Warn("a process of the daemon's group still holds its pipes: SIGKILL to the group")
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-drained
	}
	r.mu.Lock()
	r.child = nil
	r.mu.Unlock()

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

// daemonEnv is the daemon's whole environment: a fixed PATH and the two settings of the private channel; nothing
// of the Collector's environment (no OTEL_* that would redirect the export, no credentials).
func daemonEnv() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"XDP_DECAP_METRICS_FD=3",
		"XDP_DECAP_LOG_FORMAT=json",
	}
}

func (cfg *Config) interfaceNames() []string {
	names := make([]string, 0, len(cfg.Interfaces))
	for _, itf := range cfg.Interfaces {
		names = append(names, itf.Name)
	}
	return names
}
