// The xdp_decap receiver's config: every setting of the daemon's config (schema/config.schema.json) in snake_case, and its validation.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
)

// InterfaceConfig is one capture interface (daemon: interfaces[]).
type InterfaceConfig struct {
	// Name of the capture interface, e.g. ens1f0.
	Name string `mapstructure:"name"`
	// Mode is generic (default), native or auto.
	Mode string `mapstructure:"mode"`
	// Replace another XDP program already attached to the interface (default false: refuse and say which).
	Replace bool `mapstructure:"replace"`
}

// MapsConfig holds the kernel map sizes, fixed when the daemon starts (daemon: maps).
type MapsConfig struct {
	VniCapacity  int `mapstructure:"vni_capacity"`
	FlowCapacity int `mapstructure:"flow_capacity"`
}

// MetricsConfig holds the daemon's metrics settings that still apply when the Collector carries the export
// (daemon: metrics; endpoint, headers and encoding do not apply: the metrics go through the Collector's pipeline).
type MetricsConfig struct {
	ResourceAttributes map[string]any `mapstructure:"resource_attributes"`
	ServiceName        string         `mapstructure:"service_name"`
	MaxVniSeries       int            `mapstructure:"max_vni_series"`
}

// Config is the receiver's configuration.
type Config struct {
	Interfaces    []InterfaceConfig `mapstructure:"interfaces"`
	VxlanPorts    []int             `mapstructure:"vxlan_ports"`
	GenevePorts   []int             `mapstructure:"geneve_ports"`
	VxlanGpePorts []int             `mapstructure:"vxlan_gpe_ports"`
	// Gre and Erspan switch decapsulation of GRE (protocol 0x6558) and ERSPAN types I, II and III on or off.
	Gre             bool       `mapstructure:"gre"`
	Erspan          bool       `mapstructure:"erspan"`
	DecapPrefixes   []string   `mapstructure:"decap_prefixes"`
	ExcludePrefixes []string   `mapstructure:"exclude_prefixes"`
	Maps            MapsConfig `mapstructure:"maps"`
	TrackFlows      bool       `mapstructure:"track_flows"`
	// FlowIdleTimeout is the daemon's flowIdleTimeoutSeconds, as a duration.
	FlowIdleTimeout time.Duration `mapstructure:"flow_idle_timeout"`
	// CollectionInterval is how often the daemon exports its counters (daemon: metrics.exportIntervalSeconds).
	CollectionInterval time.Duration `mapstructure:"collection_interval"`
	Metrics            MetricsConfig `mapstructure:"metrics"`
	// LogLevel is the daemon's --log-level: debug, info (default), warn, error.
	LogLevel string `mapstructure:"log_level"`

	_ struct{}
}

// Limits the daemon's schema sets; config_test.go checks each against schema/config.schema.json.
const (
	minPort            = 1
	maxPort            = 65535
	minVniCapacity     = 1
	maxVniCapacity     = 1048576
	minFlowCapacity    = 1024
	maxFlowCapacity    = 16777216
	minMaxVniSeries    = 1
	minCollectionSecs  = 1
	maxInterfaceLength = 15
)

var (
	interfaceModes = []string{"generic", "native", "auto"}
	logLevels      = []string{"debug", "info", "warn", "error"}
	// Linux interface names: no '/', ':' or white space (the daemon's pattern).
	interfaceNamePattern = regexp.MustCompile(`^[^/\s:]+$`)
)

func createDefaultConfig() *Config {
	return &Config{
		Interfaces:         []InterfaceConfig{},
		VxlanPorts:         []int{4789},
		GenevePorts:        []int{6081},
		VxlanGpePorts:      []int{4790},
		Gre:                true,
		Erspan:             true,
		DecapPrefixes:      []string{},
		ExcludePrefixes:    []string{},
		Maps:               MapsConfig{VniCapacity: 65536, FlowCapacity: 262144},
		TrackFlows:         true,
		FlowIdleTimeout:    60 * time.Second,
		CollectionInterval: 60 * time.Second,
		Metrics:            MetricsConfig{ResourceAttributes: map[string]any{}, MaxVniSeries: 2000},
		LogLevel:           "info",
	}
}

// Validate returns the first problem as one line: the key, what is wrong, and the fix.
func (cfg *Config) Validate() error {
	if len(cfg.Interfaces) == 0 {
		return fmt.Errorf("interfaces: nothing to attach: list the capture interfaces, e.g. interfaces: [{ name: ens1f0 }]")
	}
	seen := map[string]bool{}
	for i, itf := range cfg.Interfaces {
		key := fmt.Sprintf("interfaces[%d]", i)
		switch {
		case itf.Name == "":
			return fmt.Errorf("%s.name: empty interface name: give the capture interface, e.g. name: ens1f0", key)
		case len(itf.Name) > maxInterfaceLength:
			return fmt.Errorf("%s.name: %q: Linux interface names have at most %d characters", key, itf.Name, maxInterfaceLength)
		case !interfaceNamePattern.MatchString(itf.Name):
			return fmt.Errorf("%s.name: %q: Linux interface names have no '/', ':' or white space", key, itf.Name)
		case itf.Name == "." || itf.Name == "..":
			return fmt.Errorf("%s.name: %q is not a valid interface name", key, itf.Name)
		case seen[itf.Name]:
			return fmt.Errorf("%s.name: interface %s is listed twice: keep one entry", key, itf.Name)
		}
		seen[itf.Name] = true
		if itf.Mode != "" && !contains(interfaceModes, itf.Mode) {
			return fmt.Errorf("%s.mode: %q: expected one of %s", key, itf.Mode, strings.Join(interfaceModes, ", "))
		}
	}
	owner := map[int]string{}
	for _, list := range udpTunnelPorts(cfg) {
		if err := validatePorts(list.key, list.what, list.ports); err != nil {
			return err
		}
		for _, p := range list.ports {
			if other, taken := owner[p]; taken {
				return fmt.Errorf("%s: port %d is in both %s and %s; a port carries one tunnel type", list.key, p, other, list.key)
			}
			owner[p] = list.key
		}
	}
	if err := validatePrefixes("decap_prefixes", cfg.DecapPrefixes); err != nil {
		return err
	}
	if err := validatePrefixes("exclude_prefixes", cfg.ExcludePrefixes); err != nil {
		return err
	}
	if cfg.Maps.VniCapacity < minVniCapacity || cfg.Maps.VniCapacity > maxVniCapacity {
		return fmt.Errorf("maps.vni_capacity: %d: expected an integer from %d to %d", cfg.Maps.VniCapacity, minVniCapacity, maxVniCapacity)
	}
	if cfg.Maps.FlowCapacity < minFlowCapacity || cfg.Maps.FlowCapacity > maxFlowCapacity {
		return fmt.Errorf("maps.flow_capacity: %d: expected an integer from %d to %d", cfg.Maps.FlowCapacity, minFlowCapacity, maxFlowCapacity)
	}
	if cfg.FlowIdleTimeout <= 0 {
		return fmt.Errorf("flow_idle_timeout: %s: expected a positive duration such as 60s", cfg.FlowIdleTimeout)
	}
	if cfg.CollectionInterval < minCollectionSecs*time.Second {
		return fmt.Errorf("collection_interval: %s: expected at least %ds, e.g. 30s", cfg.CollectionInterval, minCollectionSecs)
	}
	if cfg.Metrics.MaxVniSeries < minMaxVniSeries {
		return fmt.Errorf("metrics.max_vni_series: %d: expected an integer of at least %d", cfg.Metrics.MaxVniSeries, minMaxVniSeries)
	}
	keys := make([]string, 0, len(cfg.Metrics.ResourceAttributes))
	for k := range cfg.Metrics.ResourceAttributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := cfg.Metrics.ResourceAttributes[k].(type) {
		case string, bool, int, int64, float64:
		default:
			return fmt.Errorf("metrics.resource_attributes.%s: %v (%T): expected a string, number or boolean", k, v, v)
		}
	}
	if !contains(logLevels, cfg.LogLevel) {
		return fmt.Errorf("log_level: %q: expected one of %s", cfg.LogLevel, strings.Join(logLevels, ", "))
	}
	return nil
}

// udpTunnelPort is one UDP tunnel type's port list, as the daemon's tunnel table has them.
type udpTunnelPort struct {
	key, what   string
	defaultPort int
	ports       []int
}

func udpTunnelPorts(cfg *Config) []udpTunnelPort {
	return []udpTunnelPort{
		{"vxlan_ports", "VXLAN", 4789, cfg.VxlanPorts},
		{"geneve_ports", "Geneve", 6081, cfg.GenevePorts},
		{"vxlan_gpe_ports", "VXLAN-GPE", 4790, cfg.VxlanGpePorts},
	}
}

func validatePorts(key, what string, ports []int) error {
	if len(ports) == 0 {
		def := 0
		for _, t := range udpTunnelPorts(&Config{}) {
			if t.key == key {
				def = t.defaultPort
			}
		}
		return fmt.Errorf("%s: at least one %s port, e.g. %s: [%d]", key, what, key, def)
	}
	seen := map[int]bool{}
	for i, p := range ports {
		if p < minPort || p > maxPort {
			return fmt.Errorf("%s[%d]: %d: expected a UDP port from %d to %d", key, i, p, minPort, maxPort)
		}
		if seen[p] {
			return fmt.Errorf("%s[%d]: port %d is listed twice: keep one", key, i, p)
		}
		seen[p] = true
	}
	return nil
}

// validatePrefixes accepts what the daemon's parsePrefix accepts: a CIDR prefix without host bits, or a bare address.
func validatePrefixes(key string, prefixes []string) error {
	for i, text := range prefixes {
		trimmed := strings.TrimSpace(text)
		var prefix netip.Prefix
		var err error
		if strings.Contains(trimmed, "/") {
			prefix, err = netip.ParsePrefix(trimmed)
		} else {
			var addr netip.Addr
			addr, err = netip.ParseAddr(trimmed)
			if err == nil {
				prefix = netip.PrefixFrom(addr, addr.BitLen())
			}
		}
		if err != nil || prefix.Addr().Zone() != "" {
			return fmt.Errorf("%s[%d]: %q is not an IPv4 or IPv6 prefix (expected e.g. 10.0.0.0/8 or 2001:db8::/32)", key, i, text)
		}
		if masked := prefix.Masked(); masked != prefix {
			return fmt.Errorf("%s[%d]: %s has host bits set; did you mean %s?", key, i, text, masked)
		}
	}
	return nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// daemonConfig is the config file the daemon reads (camelCase, schema/config.schema.json); the receiver writes it as JSON.
func (cfg *Config) daemonConfig() map[string]any {
	interfaces := make([]map[string]any, 0, len(cfg.Interfaces))
	for _, itf := range cfg.Interfaces {
		mode := itf.Mode
		if mode == "" {
			mode = "generic"
		}
		interfaces = append(interfaces, map[string]any{"name": itf.Name, "mode": mode, "replace": itf.Replace})
	}
	metrics := map[string]any{
		"exportIntervalSeconds": cfg.CollectionInterval.Seconds(),
		"maxVniSeries":          cfg.Metrics.MaxVniSeries,
		"resourceAttributes":    nonNil(cfg.Metrics.ResourceAttributes),
	}
	if cfg.Metrics.ServiceName != "" {
		metrics["serviceName"] = cfg.Metrics.ServiceName
	}
	return map[string]any{
		"interfaces":             interfaces,
		"vxlanPorts":             cfg.VxlanPorts,
		"genevePorts":            cfg.GenevePorts,
		"vxlanGpePorts":          cfg.VxlanGpePorts,
		"gre":                    cfg.Gre,
		"erspan":                 cfg.Erspan,
		"decapPrefixes":          nonNilStrings(cfg.DecapPrefixes),
		"excludePrefixes":        nonNilStrings(cfg.ExcludePrefixes),
		"maps":                   map[string]any{"vniCapacity": cfg.Maps.VniCapacity, "flowCapacity": cfg.Maps.FlowCapacity},
		"trackFlows":             cfg.TrackFlows,
		"flowIdleTimeoutSeconds": math.Max(cfg.FlowIdleTimeout.Seconds(), 0.001),
		"metrics":                metrics,
	}
}

func (cfg *Config) daemonConfigJSON() ([]byte, error) {
	return json.MarshalIndent(cfg.daemonConfig(), "", "  ")
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
