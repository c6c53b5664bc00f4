// The daemon's problems in the receiver's words: its key paths in snake_case, durations as written, hints for mistyped keys.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// receiverKey names a daemon key path (["interfaces", 0, "name"], JSON's numbers) as the receiver writes it:
// interfaces[0].name; metrics.exportIntervalSeconds is collection_interval.
func receiverKey(path []any) string {
	var b strings.Builder
	var at []string
	verbatim := false
	for _, d := range durationSettings {
		if len(path) >= len(d.daemonPath) && slices.Equal(keysOf(path[:len(d.daemonPath)]), d.daemonPath) {
			b.WriteString(d.key)
			path = path[len(d.daemonPath):]
			verbatim = true // nothing below a duration
			break
		}
	}
	for _, element := range path {
		switch e := element.(type) {
		case float64:
			b.WriteString("[" + strconv.FormatFloat(e, 'f', -1, 64) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			if verbatim {
				b.WriteString(e)
			} else {
				b.WriteString(snake(e))
			}
			at = append(at, e)
			verbatim = verbatim || verbatimMaps[strings.Join(at, ".")]
		}
	}
	return b.String()
}

// keysOf returns the keys of a path, without its list indexes.
func keysOf(path []any) []string {
	out := make([]string, 0, len(path))
	for _, element := range path {
		if s, ok := element.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// receiverProblem is one of the daemon's problems in the receiver's words: its key, the value as written for a
// duration, the hint for a mistyped key in snake_case.
func (s daemonSettings) receiverProblem(issue daemonIssue) problem {
	key := receiverKey(issue.Path)
	message := issue.Message
	value, found := lookup(s.config, issue.Path)
	if seconds, isNumber := value.(float64); isNumber && s.durations[key] != "" {
		message = fmt.Sprintf("%s (%s seconds): %s", s.durations[key], strconv.FormatFloat(seconds, 'f', -1, 64), message)
	} else if found && value == nil {
		message += "; the value is empty (if it comes from ${env:NAME}, that variable is unset or empty)"
	}
	parent := keysOf(issue.Path[:max(len(issue.Path)-1, 0)])
	switch {
	case issue.DidYouMean != "":
		if name, sibling, applies := keyAt(parent, issue.DidYouMean); applies && sibling {
			message += fmt.Sprintf("; did you mean '%s'?", name)
		} else if applies {
			message += fmt.Sprintf("; did you mean the top-level '%s'?", name)
		}
	case len(issue.KnownKeys) > 0:
		var known []string
		for _, daemonName := range issue.KnownKeys {
			if name, sibling, applies := keyAt(parent, daemonName); applies && sibling {
				known = append(known, name)
			}
		}
		for _, d := range durationSettings {
			if len(parent) == 0 && !slices.Contains(known, d.key) {
				known = append(known, d.key)
			}
		}
		message += "; known keys here: " + strings.Join(known, ", ")
	}
	return problem{key: key, message: message}
}

// keyAt is the receiver's name for the daemon key `daemonName` under `parent`: whether it sits there too
// (sibling; not so for collection_interval, a top-level key for metrics.exportIntervalSeconds), and whether it
// applies under the Collector at all.
func keyAt(parent []string, daemonName string) (name string, sibling, applies bool) {
	path := slices.Concat(parent, []string{daemonName})
	if notUnderCollector[strings.Join(path, ".")] != "" {
		return "", false, false
	}
	if d, ok := durationAt(path); ok {
		return d.key, len(path) == 1, true
	}
	return snake(daemonName), true, true
}

// lookup finds the value at a daemon key path in the converted config.
func lookup(config map[string]any, path []any) (any, bool) {
	var at any = config
	for _, element := range path {
		switch e := element.(type) {
		case string:
			m, ok := at.(map[string]any)
			if !ok {
				return nil, false
			}
			if at, ok = m[e]; !ok {
				return nil, false
			}
		case float64:
			list, ok := at.([]any)
			if !ok || e < 0 || int(e) >= len(list) {
				return nil, false
			}
			at = list[int(e)]
		default:
			return nil, false
		}
	}
	return at, true
}
