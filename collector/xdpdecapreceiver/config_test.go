// Tests of the receiver's config: loading testdata/config.yaml, every key of schema/config.schema.json through the conversion, and the daemon's validator refusing bad values under the receiver's key names.

package xdpdecapreceiver

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"
)

// repoRoot is the xdp-decap checkout this module lives in (collector/xdpdecapreceiver).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// useCheckoutDaemon points Validate at this checkout's daemon for the test: Node.js 24 runs src/cli.ts as it is.
func useCheckoutDaemon(t *testing.T) {
	t.Helper()
	root := repoRoot(t)
	node := filepath.Join(root, "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		t.Fatalf("the daemon's Node.js: %v: run npm ci in the repository", err)
	}
	oldNode, oldScript := daemonNode, daemonScript
	daemonNode, daemonScript = node, filepath.Join(root, "src", "cli.ts")
	t.Cleanup(func() { daemonNode, daemonScript = oldNode, oldScript })
}

// loadConfig reads one receiver of testdata/config.yaml as the Collector does: unmarshal, then validate.
func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	id := component.NewIDWithName(metadata.Type, name)
	if name == "" {
		id = component.NewID(metadata.Type)
	}
	sub, err := cm.Sub(id.String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewFactory().CreateDefaultConfig()
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.(*Config), xconfmap.Validate(cfg)
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestLoadConfigConvertsEveryKeyAsWritten(t *testing.T) {
	useCheckoutDaemon(t)
	minimal, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := asJSON(t, minimal.daemonConfig().config); got != `{"interfaces":[{"name":"cap0"}]}` {
		t.Errorf("minimal: the daemon's defaults apply, nothing is added: %s", got)
	}

	full, err := loadConfig(t, "full")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "decapPrefixes": ["10.200.0.0/16"],
  "erspan": false,
  "excludePrefixes": ["10.0.0.0/8", "2001:db8::/32"],
  "flowIdleTimeoutSeconds": 120,
  "genevePorts": [6081],
  "interfaces": [{"name": "ens1f0"}, {"mode": "native", "name": "ens1f1", "replace": true}],
  "logLevel": "debug",
  "maps": {"flowCapacity": 65536, "vniCapacity": 4096},
  "metrics": {
    "exportIntervalSeconds": 90.5,
    "maxVniSeries": 500,
    "resourceAttributes": {"Mixed_Case.key": true, "deployment.environment": "lab", "rack": 7},
    "serviceName": "capture-host-1"
  },
  "trackFlows": false,
  "vxlanGpePorts": [4790, 4791],
  "vxlanPorts": [4789, 8472]
}`
	var wantValue any
	if err := json.Unmarshal([]byte(want), &wantValue); err != nil {
		t.Fatal(err)
	}
	if got := asJSON(t, full.daemonConfig().config); got != asJSON(t, wantValue) {
		t.Errorf("full: got\n%s\nwant\n%s", got, asJSON(t, wantValue))
	}

	// As written: the validator sees 4789.9, not a port truncated to 4789.
	_, err = loadConfig(t, "fractional_port")
	if err == nil || err.Error() != "vxlan_ports[0]: expected a whole number from 1 to 65535" {
		t.Errorf("fractional port: %v", err)
	}
	// An unknown key, refused by the daemon with its hint in the receiver's words.
	if _, err = loadConfig(t, "unknown_key"); err == nil || err.Error() != "vxlan_port: unknown key; did you mean 'vxlan_ports'?" {
		t.Errorf("unknown key: %v", err)
	}
	// One line per problem: the receiver's (a duration without unit) and the daemon's.
	_, err = loadConfig(t, "two_problems")
	lines := strings.Split(fmt.Sprint(err), "\n")
	if len(lines) != 2 || lines[0] != "collection_interval: 30 is a number, not a duration: write it with its unit, e.g. 30s" ||
		!strings.HasPrefix(lines[1], "interfaces[0].mode: ") {
		t.Errorf("two problems, one line each: %q", lines)
	}
}

func TestValidateRefusesWhatTheDaemonRefusesNamingTheReceiverKey(t *testing.T) {
	useCheckoutDaemon(t)
	prefixes := make([]any, 1025)
	for i := range prefixes {
		prefixes[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	m := func(key string, value any) map[string]any { return map[string]any{key: value} }
	cases := append(boundCases(t), []validateCase{
		{"a fractional port", m("vxlan_ports", []any{4789.9}), "vxlan_ports[0]: expected a whole number from 1 to 65535"},
		{"a NUL byte in an interface name", m("interfaces", []any{m("name", "ca\x00p")}), "interfaces[0].name: ..."},
		{"1,025 IPv4 prefixes", m("decap_prefixes", prefixes), "decap_prefixes: 1025 IPv4 prefixes, more than ..."},
		{"1000h", m("collection_interval", "1000h"), "collection_interval: 1000h (3600000 seconds): expected 1 to 2147483 seconds ..."},
		{"2^53 + 1", m("metrics", m("max_vni_series", int64(9007199254740993))), "metrics.max_vni_series: expected a whole number from 1 to 1048576 ..."},
		{"no interfaces", m("interfaces", []any{}), "interfaces: nothing to attach: ..."},
		{"a mode", m("interfaces", []any{map[string]any{"name": "cap0", "mode": "turbo"}}), "interfaces[0].mode: ..."},
		{"a port in two lists", m("geneve_ports", []any{4789}), "geneve_ports: port 4789 is also a VXLAN port; a port carries one tunnel type"},
		{"an empty name", m("interfaces", []any{m("name", nil)}), "interfaces[0].name: Invalid input: expected string, received null; the value is empty (if it comes from ${env:NAME}, that variable is unset or empty)"},
		{"a mistyped key", m("vxlan_port", []any{4789}), "vxlan_port: unknown key; did you mean 'vxlan_ports'?"},
		{"a mistyped nested key", m("maps", m("vni_capacty", 1)), "maps.vni_capacty: unknown key; did you mean 'vni_capacity'?"},
		{"an unknown key far from any", m("metrics", m("zzz", 1)), "metrics.zzz: unknown key; known keys here: resource_attributes, service_name, max_vni_series"},
		{"an unknown key in a list item", m("interfaces", []any{map[string]any{"name": "cap0", "zzz": 1}}), "interfaces[0].zzz: unknown key; known keys here: name, mode, replace"},
		{"a key that does not apply", m("metrics", m("endpoint", "http://x:4318")), "metrics.endpoint: does not apply under the Collector: ..."},
		{"the daemon's name of a duration", m("flow_idle_timeout_seconds", 60), "flow_idle_timeout_seconds: unknown key; did you mean 'flow_idle_timeout'? (a duration, e.g. 30s)"},
		{"a duration that does not parse", m("flow_idle_timeout", "soon"), `flow_idle_timeout: "soon" is not a duration: write a number and its unit, e.g. 30s, 1m30s or 500ms`},
		{"a duration without unit", m("collection_interval", 30), "collection_interval: 30 is a number, not a duration: write it with its unit, e.g. 30s"},
		{"a duration of the wrong type", m("collection_interval", []any{"30s"}), "collection_interval: [30s]: expected a duration, e.g. 30s"},
		{"not a finite number", m("maps", m("vni_capacity", math.Inf(1))), "maps.vni_capacity: +Inf is not a finite number"},
		{"a log level", m("log_level", "loud"), "log_level: ..."},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			settings := map[string]any{"interfaces": []any{map[string]any{"name": "cap0"}}}
			maps.Copy(settings, c.settings)
			err := (&Config{settings: settings}).Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			lines := strings.Split(err.Error(), "\n")
			prefix, isPrefix := strings.CutSuffix(c.want, "...")
			if !slices.ContainsFunc(lines, func(l string) bool { return l == c.want || (isPrefix && strings.HasPrefix(l, prefix)) }) {
				t.Fatalf("got %q, want a line %q", lines, c.want)
			}
		})
	}
}

func TestValidateSaysWhenTheDaemonCannotRun(t *testing.T) {
	oldNode, oldScript := daemonNode, daemonScript
	t.Cleanup(func() { daemonNode, daemonScript = oldNode, oldScript })
	daemonNode, daemonScript = "/nonexistent/node", "/nonexistent/cli.js"
	err := (&Config{settings: map[string]any{"interfaces": []any{map[string]any{"name": "cap0"}}}}).Validate()
	if err == nil || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "cannot check the xdp_decap settings: xdp-decap daemon not found at the path fixed when this collector was built") {
		t.Fatalf("one line saying the daemon is missing: %v", err)
	}
	daemonNode, daemonScript = "", ""
	if err := createDefaultConfig().Validate(); err == nil || !strings.Contains(err.Error(), "built without the xdp-decap daemon's path") {
		t.Fatalf("a collector built without the daemon's path: %v", err)
	}
}

// The Collector's confmap hands the receiver YAML-typed values; the receiver keeps them, nothing decoded.
func TestUnmarshalKeepsValuesAsWritten(t *testing.T) {
	cfg := createDefaultConfig()
	conf := confmap.NewFromStringMap(map[string]any{"vxlan_ports": []any{4789.9}, "metrics": map[string]any{"max_vni_series": int64(9007199254740993)}})
	if err := cfg.Unmarshal(conf); err != nil {
		t.Fatal(err)
	}
	if got := asJSON(t, cfg.daemonConfig().config); got != `{"metrics":{"maxVniSeries":9007199254740993},"vxlanPorts":[4789.9]}` {
		t.Fatalf("got %s", got)
	}
}
