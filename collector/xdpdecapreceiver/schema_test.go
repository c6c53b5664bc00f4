// Every key of schema/config.schema.json through the receiver's conversion, and each numeric setting at its bounds.

package xdpdecapreceiver

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// --- Every key of the daemon's schema -----------------------------------------------------------------------

// schemaKey is one setting of schema/config.schema.json: its path (camelCase keys, "[]" for a list's items).
type schemaKey struct {
	path []string
	node map[string]any
}

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(repoRoot(t), "schema", "config.schema.json"))
	if err != nil {
		t.Fatalf("the daemon's schema (this module lives in the xdp-decap repository): %v", err)
	}
	var root map[string]any
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatal(err)
	}
	return root
}

// schemaKeys lists every key of the schema, objects and their members alike, and every list's items.
func schemaKeys(at []string, node map[string]any, out *[]schemaKey) {
	if len(at) > 0 {
		*out = append(*out, schemaKey{path: at, node: node})
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for _, name := range slices.Sorted(maps.Keys(props)) {
			schemaKeys(slices.Concat(at, []string{name}), props[name].(map[string]any), out)
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		schemaKeys(slices.Concat(at, []string{"[]"}), items, out)
	}
}

// daemonPath is the path as the validator reports it: list items at index 0.
func (k schemaKey) daemonPath() []any {
	out := make([]any, len(k.path))
	for i, p := range k.path {
		if p == "[]" {
			out[i] = float64(0)
		} else {
			out[i] = p
		}
	}
	return out
}

func (k schemaKey) dotted() string {
	var names []string
	for _, p := range k.path {
		if p != "[]" {
			names = append(names, p)
		}
	}
	return strings.Join(names, ".")
}

// receiverSettings is a receiver section holding `value` at this key's receiver path.
func (k schemaKey) receiverSettings(value any) map[string]any {
	names := make([]string, len(k.path))
	for i, p := range k.path {
		names[i] = snake(p)
	}
	if d, ok := durationAt(k.path); ok {
		names = []string{d.key}
	}
	var build func(i int) any
	build = func(i int) any {
		if i == len(names) {
			return value
		}
		if names[i] == "[]" {
			return []any{build(i + 1)}
		}
		return map[string]any{names[i]: build(i + 1)}
	}
	return build(0).(map[string]any)
}

// receiverName is the key the receiver writes, by the rule its README gives: snake_case, list items [0], the
// duration keys by their own names.
func (k schemaKey) receiverName() string {
	if d, ok := durationAt(k.path); ok {
		return d.key
	}
	var b strings.Builder
	for _, p := range k.path {
		switch {
		case p == "[]":
			b.WriteString("[0]")
		case b.Len() > 0:
			b.WriteString("." + snake(p))
		default:
			b.WriteString(snake(p))
		}
	}
	return b.String()
}

func TestEveryDaemonKeyRoundTrips(t *testing.T) {
	var keys []schemaKey
	schemaKeys(nil, readSchema(t), &keys)
	if len(keys) < 25 {
		t.Fatalf("only %d keys in the schema: did its layout change?", len(keys))
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k.dotted()] = true
		for _, p := range k.path {
			if p != "[]" && camel(snake(p)) != p {
				t.Errorf("%s: %q does not survive snake_case and back (%q -> %q)", k.dotted(), p, snake(p), camel(snake(p)))
			}
		}
		name := k.receiverName()
		if got := receiverKey(k.daemonPath()); got != name {
			t.Errorf("%s: the daemon's problems would name %q, want %q", k.dotted(), got, name)
		}
		// A user's map (resource attributes) keeps its keys; a schema map must be one of those or not apply.
		if extra, isMap := k.node["additionalProperties"].(map[string]any); isMap && extra != nil &&
			!verbatimMaps[k.dotted()] && notUnderCollector[k.dotted()] == "" {
			t.Errorf("%s is a map of the user's keys: add it to verbatimMaps (or notUnderCollector, with the reason)", k.dotted())
		}

		const written = "1m30s"
		converted := (&Config{settings: k.receiverSettings(written)}).daemonConfig()
		if why := notUnderCollector[k.dotted()]; why != "" {
			if len(converted.problems) != 1 || converted.problems[0].Error() != name+": "+why {
				t.Errorf("%s does not apply and is refused: %v", name, converted.problems)
			}
			continue
		}
		if len(converted.problems) > 0 {
			t.Errorf("%s: %v", name, converted.problems)
			continue
		}
		want := any(written)
		if _, isDuration := durationAt(k.path); isDuration {
			want = 90.0
		}
		if got, found := lookup(converted.config, k.daemonPath()); !found || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the daemon's config has %v (%v) at %s, want %v: %s", name, got, found, k.dotted(), want, asJSON(t, converted.config))
		}
	}
	// Every entry of the tables names a daemon key.
	for _, d := range durationSettings {
		if !known[strings.Join(d.daemonPath, ".")] {
			t.Errorf("durationSettings: %s is not in the schema", strings.Join(d.daemonPath, "."))
		}
	}
	for _, table := range []map[string]bool{verbatimMaps, boolKeys(notUnderCollector)} {
		for key := range table {
			if !known[key] {
				t.Errorf("%s is not in the schema", key)
			}
		}
	}
	// The user's keys in resource attributes stay as written; a camelCase or doubled underscore key is refused.
	c := (&Config{settings: map[string]any{
		"metrics":      map[string]any{"resource_attributes": map[string]any{"Rack_Row.x": "a"}},
		"vxlanPorts":   []any{1},
		"vxlan__ports": []any{1},
	}}).daemonConfig()
	if got := asJSON(t, c.config); got != `{"metrics":{"resourceAttributes":{"Rack_Row.x":"a"}}}` {
		t.Errorf("resource attributes: %s", got)
	}
	if len(c.problems) != 2 || c.problems[0].Error() != "vxlanPorts: unknown key: this receiver's keys are the daemon's in snake_case; did you mean 'vxlan_ports'?" ||
		c.problems[1].key != "vxlan__ports" {
		t.Errorf("keys that are not snake_case: %v", c.problems)
	}
}

func boolKeys(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// --- Bad values, refused by the daemon's validator ------------------------------------------------------------

type validateCase struct {
	name     string
	settings map[string]any
	// want: the line that names the problem (exact, or its start when it ends in "..."); empty: valid.
	want string
}

// boundCases puts each numeric setting of the schema at, just below and just above its bounds.
func boundCases(t *testing.T) []validateCase {
	var keys []schemaKey
	schemaKeys(nil, readSchema(t), &keys)
	var cases []validateCase
	for _, k := range keys {
		lo, hasMin := k.node["minimum"].(float64)
		hi, hasMax := k.node["maximum"].(float64)
		if !hasMin || !hasMax {
			if hasMin || hasMax {
				t.Errorf("%s has one bound only: add a case for it", k.dotted())
			}
			continue
		}
		integer := k.node["type"] == "integer"
		below, above := lo-lo/10, hi+1
		if integer {
			below = lo - 1
		}
		_, isDuration := durationAt(k.path)
		value := func(v float64) any {
			switch {
			case isDuration:
				return strconv.FormatFloat(v, 'f', -1, 64) + "s"
			case integer:
				return int64(v)
			}
			return v
		}
		for _, c := range []struct {
			what  string
			value float64
			ok    bool
		}{{"minimum", lo, true}, {"maximum", hi, true}, {"below the minimum", below, false}, {"above the maximum", above, false}} {
			want := ""
			if !c.ok {
				want = k.receiverName() + ": ..."
			}
			cases = append(cases, validateCase{name: fmt.Sprintf("%s %s (%v)", k.receiverName(), c.what, c.value), settings: k.receiverSettings(value(c.value)), want: want})
		}
	}
	if len(cases) < 7*4 {
		t.Fatalf("%d bound cases: the schema's numeric settings have no minimum/maximum any more?", len(cases))
	}
	return cases
}
