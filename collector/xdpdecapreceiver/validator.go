// The daemon's own validator (`xdp-decap validate --config - --json`), which the receiver's Validate asks.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// validateTimeout bounds one run of the validator (Node.js starts and checks a config in about half a second).
const validateTimeout = 30 * time.Second

// validationReport is what `xdp-decap validate --json` prints (ValidateReport in src/commands/validate.ts).
type validationReport struct {
	Valid    bool          `json:"valid"`
	Problems []daemonIssue `json:"problems"`
}

// daemonIssue is one problem the daemon found (ConfigIssue in src/config/config-error.ts).
type daemonIssue struct {
	// Path holds keys (strings) and list indexes (JSON numbers) from the top; empty for the whole config.
	Path       []any    `json:"path"`
	Message    string   `json:"message"`
	DidYouMean string   `json:"didYouMean"`
	KnownKeys  []string `json:"knownKeys"`
}

// validate runs the daemon's validator on a daemon config and returns its problems (none: valid), or an error
// when the validator cannot run or answers something else than its report.
func (d daemonCommand) validate(config map[string]any) ([]daemonIssue, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("writing the daemon's config as JSON: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), validateTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.path, append(slices.Clone(d.args), "validate", "--config", "-", "--json")...)
	cmd.Dir = "/"
	cmd.Env = []string{daemonSearchPath}
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, fmt.Errorf("running the xdp-decap daemon's validator (%s): %w", d.path, runErr)
	}
	code := cmd.ProcessState.ExitCode()
	var report validationReport
	if (code == 0 || code == exitUsage) && json.Unmarshal(stdout.Bytes(), &report) == nil && report.Valid == (code == 0) {
		return report.Problems, nil
	}
	why := firstLine(stderr.String())
	if ctx.Err() != nil {
		why = fmt.Sprintf("no answer within %s", validateTimeout)
	}
	return nil, fmt.Errorf("the xdp-decap daemon's validator failed (%s, exit code %d): %s", d.path, code, why)
}

// firstLine is the first non-empty line of a process's output: its error message.
func firstLine(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	return strings.TrimSpace(line)
}
