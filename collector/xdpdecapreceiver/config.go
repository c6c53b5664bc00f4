// The xdp_decap receiver's config: the daemon's config in snake_case, kept as written, checked by the daemon's own validator.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"errors"
	"fmt"
	"maps"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/xconfmap"
)

// Config is the receiver's section of the Collector config, exactly as the Collector resolved it (${env:...}
// expanded): the daemon's keys (schema/config.schema.json) in snake_case with YAML-typed values, plus the
// receiver's duration keys (convert.go). It has no rules of its own: Validate converts it to the daemon's config
// and asks the daemon, so `otelcol validate` and the daemon never disagree. Defaults are the daemon's too: a key
// left out is a key the daemon config leaves out.
type Config struct {
	// settings holds the section's keys and values as written: 4789.9 stays 4789.9 for the validator to refuse.
	settings map[string]any
}

var (
	_ confmap.Unmarshaler = (*Config)(nil)
	_ xconfmap.Validator  = (*Config)(nil)
)

func createDefaultConfig() *Config {
	return &Config{settings: map[string]any{}}
}

// Unmarshal keeps the section's keys and values as they are, without decoding them into Go types (which would
// turn 4789.9 into 4789, or refuse an unknown key before the daemon could say which key was meant).
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if cfg.settings == nil {
		cfg.settings = map[string]any{}
	}
	if conf != nil {
		maps.Copy(cfg.settings, conf.ToStringMap())
	}
	return nil
}

// Validate returns one line per problem, each naming the receiver's key: what only the receiver can see (a
// duration that does not parse, a key that is not snake_case or does not apply under the Collector), then
// everything the daemon's validator (`xdp-decap validate`) refuses, mapped back to the receiver's keys.
func (cfg *Config) Validate() error {
	converted := cfg.daemonConfig()
	problems := converted.problems
	issues, err := builtDaemon().validate(converted.config)
	if err != nil {
		problems = append(problems, problem{message: fmt.Sprintf("cannot check the xdp_decap settings: %v", err)})
	}
	for _, issue := range issues {
		p := converted.receiverProblem(issue)
		// A value already refused here (e.g. not a finite number) reaches the daemon as null: one line is enough.
		if !converted.refusedHere[p.key] {
			problems = append(problems, p)
		}
	}
	return joinProblems(problems)
}

// problem is one thing wrong with the receiver's config: the receiver's key (empty for the whole section) and
// what is wrong, with the fix.
type problem struct {
	key     string
	message string
}

func (p problem) Error() string {
	if p.key == "" {
		return p.message
	}
	return p.key + ": " + p.message
}

// joinProblems makes one error of one line per distinct problem (zod may report a value twice, e.g. too large
// and not whole, with the same words), or nil.
func joinProblems(problems []problem) error {
	var errs []error
	seen := map[problem]bool{}
	for _, p := range problems {
		if !seen[p] {
			seen[p] = true
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}
