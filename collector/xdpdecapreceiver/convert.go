// The receiver's config to the daemon's: snake_case keys to camelCase, durations to seconds, the keys that do not apply refused.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
)

// durationSetting is a receiver key written as a Go duration ("30s") for a daemon key in seconds.
type durationSetting struct {
	key        string
	daemonPath []string
}

// durationSettings are the receiver's own keys, all at the top of its section.
var durationSettings = []durationSetting{
	// The Collector's usual name for how often a receiver hands its data to the pipeline.
	{key: "collection_interval", daemonPath: []string{"metrics", "exportIntervalSeconds"}},
	{key: "flow_idle_timeout", daemonPath: []string{"flowIdleTimeoutSeconds"}},
}

// notUnderCollector are the daemon keys (dotted camelCase paths) that have no receiver setting, and why.
var notUnderCollector = map[string]string{
	"metrics.endpoint": "does not apply under the Collector: the metrics go through its pipeline, not OTLP/HTTP; send them on with an exporter",
	"metrics.headers":  "does not apply under the Collector: its exporters send the metrics, with their own headers",
	"metrics.encoding": "does not apply under the Collector: its exporters choose the encoding",
}

// verbatimMaps are the daemon keys whose own keys are the user's (attribute names): passed on unchanged.
var verbatimMaps = map[string]bool{"metrics.resourceAttributes": true}

// camel turns a snake_case key into the daemon's camelCase: vxlan_gpe_ports -> vxlanGpePorts.
func camel(key string) string {
	parts := strings.Split(key, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// snake turns a daemon key into snake_case: maxVniSeries -> max_vni_series.
func snake(key string) string {
	var b strings.Builder
	for i, r := range key {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func durationAt(daemonPath []string) (durationSetting, bool) {
	for _, d := range durationSettings {
		if slices.Equal(d.daemonPath, daemonPath) {
			return d, true
		}
	}
	return durationSetting{}, false
}

// daemonSettings is the receiver's config converted to the daemon's (what Validate checks and Start writes), with
// what the conversion itself refused.
type daemonSettings struct {
	config   map[string]any
	problems []problem
	// refusedHere holds the receiver keys in problems.
	refusedHere map[string]bool
	// durations holds each duration key's value as written, e.g. collection_interval: 1000h.
	durations map[string]string
}

// daemonConfig converts the receiver's settings to the daemon's config: keys to camelCase (the user's own keys
// in resource attributes excepted), durations to seconds, every value as it was written.
func (cfg *Config) daemonConfig() daemonSettings {
	out := daemonSettings{refusedHere: map[string]bool{}, durations: map[string]string{}}
	c := converter{out: &out}
	out.config = c.object(cfg.settings, nil, "")
	for _, d := range durationSettings {
		if seconds, ok := c.seconds[d.key]; ok {
			place(out.config, d.daemonPath, seconds)
		}
	}
	return out
}

type converter struct {
	out     *daemonSettings
	seconds map[string]float64
}

func (c *converter) refuse(key, message string) {
	c.out.problems = append(c.out.problems, problem{key: key, message: message})
	c.out.refusedHere[key] = true
}

// object converts a map of receiver keys found at daemon path `at` (camelCase keys, no list indexes) and at
// receiver key `key`.
func (c *converter) object(m map[string]any, at []string, key string) map[string]any {
	out := make(map[string]any, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		value, receiverKey := m[name], joinKey(key, name)
		if len(at) == 0 && c.duration(name, value) {
			continue
		}
		daemonName := camel(name)
		daemonPath := slices.Concat(at, []string{daemonName})
		if d, ok := durationAt(daemonPath); ok {
			c.refuse(receiverKey, fmt.Sprintf("unknown key; did you mean '%s'? (a duration, e.g. 30s)", d.key))
			continue
		}
		switch why := notUnderCollector[strings.Join(daemonPath, ".")]; {
		case snake(daemonName) != name:
			c.refuse(receiverKey, fmt.Sprintf("unknown key: this receiver's keys are the daemon's in snake_case; did you mean '%s'?", snake(daemonName)))
		case why != "":
			c.refuse(receiverKey, why)
		default:
			out[daemonName] = c.value(value, daemonPath, receiverKey)
		}
	}
	return out
}

func (c *converter) value(v any, at []string, key string) any {
	switch v := v.(type) {
	case map[string]any:
		if verbatimMaps[strings.Join(at, ".")] {
			return c.verbatim(v, key)
		}
		return c.object(v, at, key)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = c.value(e, at, fmt.Sprintf("%s[%d]", key, i))
		}
		return out
	}
	return c.scalar(v, key)
}

// verbatim copies a map of the user's own keys, checking only that its values can be written as JSON.
func (c *converter) verbatim(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if nested, ok := v.(map[string]any); ok {
			out[k] = c.verbatim(nested, joinKey(key, k))
		} else {
			out[k] = c.scalar(v, joinKey(key, k))
		}
	}
	return out
}

// scalar passes a value on as written; only what JSON cannot carry to the validator (.inf, .nan) is refused here.
func (c *converter) scalar(v any, key string) any {
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		c.refuse(key, fmt.Sprintf("%v is not a finite number", f))
		return nil
	}
	return v
}

// duration converts a receiver duration key and says whether `name` was one.
func (c *converter) duration(name string, value any) bool {
	i := slices.IndexFunc(durationSettings, func(d durationSetting) bool { return d.key == name })
	if i < 0 {
		return false
	}
	seconds, err := durationSeconds(value)
	if err != nil {
		c.refuse(name, err.Error())
		return true
	}
	if c.seconds == nil {
		c.seconds = map[string]float64{}
	}
	c.seconds[name] = seconds
	c.out.durations[name] = fmt.Sprint(value)
	return true
}

// durationSeconds reads a Go duration ("1m30s"); a bare number is refused, since its unit would be a guess.
func durationSeconds(value any) (float64, error) {
	switch v := value.(type) {
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: write a number and its unit, e.g. 30s, 1m30s or 500ms", v)
		}
		return d.Seconds(), nil
	case time.Duration:
		return v.Seconds(), nil
	case nil:
		return 0, errors.New("empty: give a duration, e.g. 30s (if it comes from ${env:NAME}, that variable is unset or empty)")
	case int, int64, uint64, float64:
		return 0, fmt.Errorf("%v is a number, not a duration: write it with its unit, e.g. %vs", v, v)
	}
	return 0, fmt.Errorf("%v: expected a duration, e.g. 30s", value)
}

// place sets the daemon key at `path`, making the maps on the way; a value in the way that is not a map is left
// for the daemon to refuse.
func place(config map[string]any, path []string, value any) {
	for _, name := range path[:len(path)-1] {
		next, exists := config[name]
		if !exists {
			next = map[string]any{}
			config[name] = next
		}
		m, ok := next.(map[string]any)
		if !ok {
			return
		}
		config = m
	}
	config[path[len(path)-1]] = value
}
