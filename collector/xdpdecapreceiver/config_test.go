// Tests of the receiver's config: loading testdata/config.yaml, validation messages, and no drift from schema/config.schema.json.

package xdpdecapreceiver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/confmap/xconfmap"

	"github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"
)

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
		return cfg.(*Config), err
	}
	return cfg.(*Config), xconfmap.Validate(cfg)
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := createDefaultConfig()
	want.Interfaces = []InterfaceConfig{{Name: "cap0"}}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("minimal config: got %+v, want %+v", cfg, want)
	}

	full, err := loadConfig(t, "full")
	if err != nil {
		t.Fatal(err)
	}
	got, err := full.daemonConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	wantDaemon := `{
  "decapPrefixes": ["10.200.0.0/16"],
  "excludePrefixes": ["10.0.0.0/8", "2001:db8::/32"],
  "flowIdleTimeoutSeconds": 120,
  "genevePorts": [6081],
  "vxlanGpePorts": [4790, 4791],
  "gre": true,
  "erspan": false,
  "interfaces": [
    {"mode": "generic", "name": "ens1f0", "replace": false},
    {"mode": "native", "name": "ens1f1", "replace": true}
  ],
  "maps": {"flowCapacity": 65536, "vniCapacity": 4096},
  "metrics": {
    "exportIntervalSeconds": 30,
    "maxVniSeries": 500,
    "resourceAttributes": {"deployment.environment": "lab", "rack": 7},
    "serviceName": "capture-host-1"
  },
  "trackFlows": false,
  "vxlanPorts": [4789, 8472]
}`
	var a, b any
	_ = json.Unmarshal(got, &a)
	_ = json.Unmarshal([]byte(wantDaemon), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("daemon config:\n%s\nwant\n%s", got, wantDaemon)
	}
	if full.LogLevel != "debug" {
		t.Fatalf("log_level: %q", full.LogLevel)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	cases := map[string]string{
		"bad_mode":       `interfaces[0].mode: "turbo": expected one of generic, native, auto`,
		"bad_prefix":     `exclude_prefixes[0]: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?`,
		"both_ports":     `geneve_ports: port 4789 is in both vxlan_ports and geneve_ports; a port carries one tunnel type`,
		"gpe_port_taken": `vxlan_gpe_ports: port 6081 is in both geneve_ports and vxlan_gpe_ports; a port carries one tunnel type`,
		"no_interfaces":  `interfaces: nothing to attach: list the capture interfaces, e.g. interfaces: [{ name: ens1f0 }]`,
		"short_interval": `collection_interval: 500ms: expected at least 1s, e.g. 30s`,
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want it to contain %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("one line: %q", err)
			}
		})
	}
	// Unknown keys are refused by the Collector's own decoder (its message, over several lines).
	if _, err := loadConfig(t, "unknown_key"); err == nil || !strings.Contains(err.Error(), "has invalid keys: vxlan_port") {
		t.Errorf("unknown key: %v", err)
	}
	more := map[string]func(*Config){
		`interfaces[0].name: "a-very-long-interface-name": Linux interface names have at most 15 characters`: func(c *Config) { c.Interfaces[0].Name = "a-very-long-interface-name" },
		`interfaces[0].name: "a/b": Linux interface names have no '/', ':' or white space`:                   func(c *Config) { c.Interfaces[0].Name = "a/b" },
		`interfaces[1].name: interface cap0 is listed twice: keep one entry`:                                 func(c *Config) { c.Interfaces = append(c.Interfaces, InterfaceConfig{Name: "cap0"}) },
		`vxlan_ports[0]: 70000: expected a UDP port from 1 to 65535`:                                         func(c *Config) { c.VxlanPorts = []int{70000} },
		`geneve_ports: at least one Geneve port, e.g. geneve_ports: [6081]`:                                  func(c *Config) { c.GenevePorts = nil },
		`decap_prefixes[0]: "10.0.0.0/33" is not an IPv4 or IPv6 prefix`:                                     func(c *Config) { c.DecapPrefixes = []string{"10.0.0.0/33"} },
		`maps.vni_capacity: 0: expected an integer from 1 to 1048576`:                                        func(c *Config) { c.Maps.VniCapacity = 0 },
		`maps.flow_capacity: 10: expected an integer from 1024 to 16777216`:                                  func(c *Config) { c.Maps.FlowCapacity = 10 },
		`flow_idle_timeout: 0s: expected a positive duration such as 60s`:                                    func(c *Config) { c.FlowIdleTimeout = 0 },
		`metrics.max_vni_series: 0: expected an integer of at least 1`:                                       func(c *Config) { c.Metrics.MaxVniSeries = 0 },
		`log_level: "loud": expected one of debug, info, warn, error`:                                        func(c *Config) { c.LogLevel = "loud" },
	}
	for want, edit := range more {
		cfg := createDefaultConfig()
		cfg.Interfaces = []InterfaceConfig{{Name: "cap0"}}
		edit(cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
	ok := createDefaultConfig()
	ok.Interfaces = []InterfaceConfig{{Name: "cap0"}}
	ok.DecapPrefixes = []string{"192.0.2.1", "2001:db8::/32"}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}

// --- One source of truth: the daemon's JSON Schema ---------------------------------------------------------

type schemaNode struct {
	Type                 any                    `json:"type"`
	Default              any                    `json:"default"`
	Properties           map[string]*schemaNode `json:"properties"`
	Items                *schemaNode            `json:"items"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
	MaxLength            *int                   `json:"maxLength"`
	Enum                 []string               `json:"enum"`
	AdditionalProperties any                    `json:"additionalProperties"`
}

// Daemon keys the receiver spells differently, and why.
var renamed = map[string]string{
	"flowIdleTimeoutSeconds":        "flow_idle_timeout",   // a duration (60s), as collector configs write them
	"metrics.exportIntervalSeconds": "collection_interval", // the receiver's export interval, the collector's usual name
}

// Daemon keys with no receiver setting, and why.
var notApplicable = map[string]string{
	"metrics.endpoint": "the metrics go through the Collector's pipeline, not OTLP/HTTP",
	"metrics.headers":  "no HTTP export",
	"metrics.encoding": "no HTTP export",
}

func snake(camel string) string {
	return strings.ToLower(regexp.MustCompile(`([a-z0-9])([A-Z])`).ReplaceAllString(camel, "${1}_${2}"))
}

func readSchema(t *testing.T) *schemaNode {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "schema", "config.schema.json"))
	if err != nil {
		t.Fatalf("the daemon's schema (this module lives in the xdp-decap repository): %v", err)
	}
	var root schemaNode
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatal(err)
	}
	return &root
}

// schemaKeys lists "a.b" paths of every leaf setting (array items' properties as "interfaces.name").
func schemaKeys(prefix string, node *schemaNode, out map[string]*schemaNode) {
	props := node.Properties
	if node.Items != nil && node.Items.Properties != nil {
		props = node.Items.Properties
	}
	if len(props) == 0 || (node.AdditionalProperties != nil && node.AdditionalProperties != false) {
		out[prefix] = node
		return
	}
	for k, child := range props {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		schemaKeys(p, child, out)
	}
}

// receiverKeys lists "a.b" paths of the receiver's mapstructure tags.
func receiverKeys(prefix string, t reflect.Type, out map[string]reflect.Type) {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		out[prefix] = t
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || !f.IsExported() {
			continue
		}
		p := tag
		if prefix != "" {
			p = prefix + "." + tag
		}
		if f.Type == reflect.TypeOf(time.Duration(0)) {
			out[p] = f.Type
			continue
		}
		receiverKeys(p, f.Type, out)
	}
}

func TestConfigKeysMatchTheDaemonSchema(t *testing.T) {
	fromSchema := map[string]*schemaNode{}
	schemaKeys("", readSchema(t), fromSchema)
	fromReceiver := map[string]reflect.Type{}
	receiverKeys("", reflect.TypeOf(Config{}), fromReceiver)

	want := map[string]bool{"log_level": true} // the daemon's --log-level flag
	for key := range fromSchema {
		if _, skip := notApplicable[key]; skip {
			continue
		}
		name, ok := renamed[key]
		if !ok {
			parts := strings.Split(key, ".")
			for i := range parts {
				parts[i] = snake(parts[i])
			}
			name = strings.Join(parts, ".")
		}
		want[name] = true
	}
	var missing, extra []string
	for k := range want {
		if _, ok := fromReceiver[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range fromReceiver {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Fatalf("receiver config drifted from schema/config.schema.json: missing %v, not in the schema %v (add the key to config.go, or to renamed/notApplicable with the reason)", missing, extra)
	}
}

func TestDefaultsAndLimitsMatchTheDaemonSchema(t *testing.T) {
	s := map[string]*schemaNode{}
	schemaKeys("", readSchema(t), s)
	def := createDefaultConfig()
	num := func(key string) (float64, float64) {
		n := s[key]
		if n == nil || n.Minimum == nil {
			t.Fatalf("schema has no minimum for %s", key)
		}
		hi := -1.0
		if n.Maximum != nil {
			hi = *n.Maximum
		}
		return *n.Minimum, hi
	}
	checks := []struct {
		key      string
		min, max float64
	}{
		{"vxlanPorts", minPort, maxPort}, // items
		{"maps.vniCapacity", minVniCapacity, maxVniCapacity},
		{"maps.flowCapacity", minFlowCapacity, maxFlowCapacity},
		{"metrics.exportIntervalSeconds", minCollectionSecs, -1},
	}
	for _, c := range checks {
		var lo, hi float64
		if c.key == "vxlanPorts" {
			items := s["vxlanPorts"].Items
			lo, hi = *items.Minimum, *items.Maximum
		} else {
			lo, hi = num(c.key)
		}
		if lo != c.min || hi != c.max {
			t.Errorf("%s: schema limits [%v, %v], receiver [%v, %v]", c.key, lo, hi, c.min, c.max)
		}
	}
	if lo, _ := num("metrics.maxVniSeries"); lo != minMaxVniSeries {
		t.Errorf("metrics.maxVniSeries minimum: schema %v, receiver %v", lo, minMaxVniSeries)
	}
	if n := s["interfaces.name"]; n.MaxLength == nil || *n.MaxLength != maxInterfaceLength {
		t.Errorf("interfaces.name maxLength: schema %v, receiver %d", n.MaxLength, maxInterfaceLength)
	}
	if got := s["interfaces.mode"].Enum; !reflect.DeepEqual(got, interfaceModes) {
		t.Errorf("interfaces.mode: schema %v, receiver %v", got, interfaceModes)
	}
	// Defaults: the daemon config the receiver writes for a default config equals the schema's defaults.
	def.Interfaces = []InterfaceConfig{{Name: "x"}}
	var written map[string]any
	body, _ := def.daemonConfigJSON()
	_ = json.Unmarshal(body, &written)
	for key, node := range s {
		if node.Default == nil || strings.HasPrefix(key, "interfaces") {
			continue
		}
		if _, skip := notApplicable[key]; skip {
			continue
		}
		var got any = written
		for _, part := range strings.Split(key, ".") {
			got = got.(map[string]any)[part]
		}
		if !reflect.DeepEqual(got, node.Default) {
			t.Errorf("default of %s: receiver writes %v, schema says %v", key, got, node.Default)
		}
	}
	if def.Interfaces[0].Mode != "" || written["interfaces"].([]any)[0].(map[string]any)["mode"] != s["interfaces.mode"].Default {
		t.Errorf("interfaces[].mode default")
	}
}
