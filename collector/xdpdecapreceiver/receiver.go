// The xdp_decap receiver: Start writes the daemon's config and starts its supervisor, Shutdown stops it; component status for both.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
)

type xdpDecapReceiver struct {
	logger  *zap.Logger
	cfg     *Config
	next    consumer.Metrics
	daemon  daemonCommand
	timings timings

	mu       sync.Mutex
	started  bool
	host     component.Host
	sup      *supervisor
	cancel   context.CancelFunc
	done     chan struct{}
	dir      string
	shutdown sync.Once
	stopErr  error
}

func newReceiver(settings receiver.Settings, cfg *Config, next consumer.Metrics, daemon daemonCommand) *xdpDecapReceiver {
	return &xdpDecapReceiver{
		// Its error lines (the daemon's forwarded ones, a daemon that cannot run) say what is wrong with the
		// config or the host; a Go stack would point into this receiver, never at the cause.
		logger:  settings.Logger.WithOptions(withoutStacktrace),
		cfg:     cfg,
		next:    next,
		daemon:  daemon,
		timings: defaultTimings,
	}
}

// Start writes the daemon's config (the conversion Validate checked) into a private directory and starts the
// supervisor; it returns at once. Problems the daemon meets (an interface refused, missing capabilities) are
// reported as component status, never as an error here, so they cannot stop the Collector or its other pipelines.
func (r *xdpDecapReceiver) Start(_ context.Context, host component.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("xdp_decap receiver already started")
	}
	r.started = true
	r.host = host
	converted := r.cfg.daemonConfig()
	if err := joinProblems(converted.problems); err != nil {
		return fmt.Errorf("xdp_decap: %w", err) // Validate refused it already, when the Collector ran it
	}
	body, err := json.MarshalIndent(converted.config, "", "  ")
	if err != nil {
		return fmt.Errorf("xdp_decap: writing the daemon's config as JSON: %w", err)
	}
	dir, err := os.MkdirTemp("", "xdp-decap-receiver-") // 0700
	if err != nil {
		return fmt.Errorf("xdp_decap: creating a private directory for the daemon's config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, daemonConfigFile), body, 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("xdp_decap: writing the daemon's config in %s: %w", dir, err)
	}
	r.dir = dir
	r.sup = &supervisor{
		logger:     r.logger,
		daemon:     r.daemon,
		timings:    r.timings,
		dir:        dir,
		interfaces: interfaceNames(converted.config),
		next:       r.next,
		report:     r.report,
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.sup.run(ctx)
	}()
	return nil
}

func (r *xdpDecapReceiver) configPath() string {
	return filepath.Join(r.dir, daemonConfigFile)
}

// Shutdown stops the daemon (SIGTERM: it detaches and sends a last export, which is forwarded; SIGKILL when ctx's
// deadline, or the grace period, passes), then removes the private directory. Idempotent; safe without Start.
func (r *xdpDecapReceiver) Shutdown(ctx context.Context) error {
	r.shutdown.Do(func() {
		r.mu.Lock()
		sup, cancel, done, dir := r.sup, r.cancel, r.done, r.dir
		r.mu.Unlock()
		if sup == nil {
			return
		}
		deadline, has := ctx.Deadline()
		if !has {
			deadline = time.Now().Add(r.timings.stopGrace)
		}
		sup.stop(deadline)
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			r.stopErr = fmt.Errorf("xdp_decap: shutdown: %w", ctx.Err())
		}
		if err := os.RemoveAll(dir); err != nil {
			r.stopErr = errors.Join(r.stopErr, fmt.Errorf("xdp_decap: removing %s: %w", dir, err))
		}
	})
	return r.stopErr
}

// report passes a status event to the host, until Shutdown begins.
func (r *xdpDecapReceiver) report(ev *componentstatus.Event) {
	r.mu.Lock()
	host, sup := r.host, r.sup
	r.mu.Unlock()
	if host != nil && (sup == nil || !sup.isStopping()) {
		componentstatus.ReportStatus(host, ev)
	}
}

// interfaceNames lists the interface names of a daemon config (for the log; the validator checked them).
func interfaceNames(config map[string]any) []string {
	list, _ := config["interfaces"].([]any)
	names := make([]string, 0, len(list))
	for _, itf := range list {
		if m, ok := itf.(map[string]any); ok {
			names = append(names, fmt.Sprint(m["name"]))
		}
	}
	return names
}
