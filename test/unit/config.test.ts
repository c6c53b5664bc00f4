// Config: defaults, YAML/JSON files, one clear error per kind of bad value, the JSON Schema (OTEL_* precedence: otel-env.test.ts).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  configJsonSchema,
  DEFAULT_CONFIG,
  loadConfigFile,
  MAX_CONFIG_BYTES,
  parseConfig,
  runIssues,
  settingsNeedingRestart,
} from '../../src/config/load.ts';
import { lpmKey, PREFIX_TRIE_CAPACITY, parsePrefix } from '../../src/config/prefixes.ts';
import { MAP_NAMES } from '../../src/decode/layout.ts';
import { libbpf } from '../../src/ffi/libbpf.ts';
import { bpfObjectPath } from '../../src/program/decap-program.ts';
import { runCli } from '../lib/cli.ts';
import { REPO_ROOT } from '../lib/env.ts';

function errorOf(input: unknown): string {
  try {
    parseConfig(input, 'cfg.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `ConfigError expected, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(input)}`);
}

test('every field has a default', () => {
  assert.deepEqual(DEFAULT_CONFIG, {
    interfaces: [],
    vxlanPorts: [4789],
    genevePorts: [6081],
    vxlanGpePorts: [4790],
    gre: true,
    erspan: true,
    decapPrefixes: [],
    excludePrefixes: [],
    maps: { vniCapacity: 65536, flowCapacity: 262144 },
    trackFlows: true,
    flowIdleTimeoutSeconds: 60,
    metrics: { headers: {}, resourceAttributes: {}, maxVniSeries: 2000 },
    logLevel: 'info',
  });
  assert.deepEqual(parseConfig({ interfaces: [{ name: 'eth1' }] }, 'x').interfaces, [{ name: 'eth1', mode: 'generic', replace: false }]);
});

const BAD: Array<[string, unknown, RegExp]> = [
  ['unknown top-level key, with a hint', { interface: [] }, /cfg\.yaml: interface: unknown key; did you mean 'interfaces'\?/],
  ['unknown nested key, with a hint', { metrics: { endpiont: 'http://x' } }, /metrics\.endpiont: unknown key; did you mean 'endpoint'\?/],
  ['unknown interface key', { interfaces: [{ name: 'eth0', mod: 'native' }] }, /interfaces\[0\]\.mod: unknown key; did you mean 'mode'\?/],
  ['port out of range', { vxlanPorts: [70000] }, /vxlanPorts\[0\]: .*65535/],
  ['port not a number', { genevePorts: ['6081'] }, /genevePorts\[0\]: expected a whole number from 1 to 65535$/],
  ['port not a whole number', { vxlanPorts: [4789.9] }, /vxlanPorts\[0\]: expected a whole number from 1 to 65535$/],
  ['empty port list', { vxlanPorts: [] }, /vxlanPorts: at least one VXLAN port/],
  ['duplicate port', { vxlanPorts: [4789, 4789] }, /vxlanPorts: a port is listed twice/],
  ['port in both lists', { vxlanPorts: [4789], genevePorts: [4789] }, /genevePorts: port 4789 is also a VXLAN port; a port carries one tunnel type/],
  ['not a prefix', { decapPrefixes: ['10.0.0.0/33'] }, /decapPrefixes\[0\]: "10\.0\.0\.0\/33" is not an IPv4 or IPv6 prefix/],
  ['host bits set', { excludePrefixes: ['192.0.2.1/24'] }, /excludePrefixes\[0\]: 192\.0\.2\.1\/24 has host bits set; did you mean 192\.0\.2\.0\/24\?/],
  ['interface name too long', { interfaces: [{ name: 'a-very-long-interface0' }] }, /interfaces\[0\]\.name: Linux interface names have at most 15 characters/],
  ['interface name with a slash', { interfaces: [{ name: 'eth/0' }] }, /interfaces\[0\]\.name: Linux interface names have no '\/'/],
  ['interface listed twice', { interfaces: [{ name: 'eth0' }, { name: 'eth0' }] }, /interfaces\[1\]\.name: interface eth0 is listed twice/],
  ['bad mode', { interfaces: [{ name: 'eth0', mode: 'fast' }] }, /interfaces\[0\]\.mode: .*"generic"\|"native"\|"auto"/],
  ['capacity too small', { maps: { flowCapacity: 10 } }, /maps\.flowCapacity: expected a whole number from 1024 to 16777216$/],
  ['capacity not an integer', { maps: { vniCapacity: 1.5 } }, /maps\.vniCapacity: expected a whole number from 1 to 1048576$/],
  ['bad endpoint', { metrics: { endpoint: 'collector:4318' } }, /metrics\.endpoint: expected an http\(s\) URL/],
  ['bad encoding', { metrics: { encoding: 'grpc' } }, /metrics\.encoding: .*"protobuf"\|"json"/],
  ['idle timeout not positive', { flowIdleTimeoutSeconds: 0 }, /flowIdleTimeoutSeconds: expected 0\.001 to 2147483 seconds/],
  [
    'idle timeout beyond a timer (1e300 used to crash the daemon)',
    { flowIdleTimeoutSeconds: 1e300 },
    /flowIdleTimeoutSeconds: expected 0\.001 to 2147483 seconds \(at most: the longest a timer can wait, 24\.8 days\)$/,
  ],
  ['export interval too short', { metrics: { exportIntervalSeconds: 0.1 } }, /metrics\.exportIntervalSeconds: expected 1 to 2147483 seconds/],
  [
    'export interval beyond a timer (1000 h used to export every millisecond)',
    { metrics: { exportIntervalSeconds: 3_600_000 } },
    /metrics\.exportIntervalSeconds: expected 1 to 2147483 seconds/,
  ],
  // biome-ignore lint/correctness/noPrecisionLoss: the number a user wrote, which JavaScript reads as 2^53
  ['max VNI series beyond a safe integer', { metrics: { maxVniSeries: 9007199254740993 } }, /metrics\.maxVniSeries: expected a whole number from 1 to 1048576/],
  ['bad log level', { logLevel: 'verbose' }, /logLevel: .*"debug"\|"info"\|"warn"\|"error"/],
];

for (const [name, input, message] of BAD) {
  test(`config error: ${name}`, () => assert.match(errorOf(input), message));
}

test('YAML and JSON files load; syntax errors and missing files name the file (and line)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-config-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), 'interfaces:\n  - name: ens1f0\n    mode: native\nvxlanPorts: [4789, 8472]\n');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ excludePrefixes: ['2001:db8::/32'] }));
    writeFileSync(join(dir, 'bad.yaml'), 'interfaces:\n  - name: [unclosed\n');
    writeFileSync(join(dir, 'bad.json'), '{"vxlanPorts": [4789,]}');
    assert.deepEqual((await loadConfigFile(join(dir, 'a.yaml'))).vxlanPorts, [4789, 8472]);
    assert.equal((await loadConfigFile(join(dir, 'a.yaml'))).interfaces[0]?.mode, 'native');
    assert.deepEqual(
      (await loadConfigFile(join(dir, 'a.json'))).excludePrefixes.map((p) => p.text),
      ['2001:db8::/32'],
    );
    await assert.rejects(loadConfigFile(join(dir, 'bad.yaml')), /bad\.yaml: YAML syntax error at line \d+, column \d+/);
    await assert.rejects(loadConfigFile(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
    await assert.rejects(loadConfigFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read the config file: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('examples/config.yaml (the installed /etc/xdp-decap/config.yaml) documents the defaults and names no interface: run refuses it until edited', async () => {
  const cfg = await loadConfigFile(join(REPO_ROOT, 'examples', 'config.yaml'));
  assert.deepEqual(cfg, DEFAULT_CONFIG);
  assert.deepEqual(
    runIssues(cfg).map((i) => i.path),
    [['interfaces']],
  );
});

test('prefixes encode as the kernel LPM keys (u32 prefixlen, then network-order address)', () => {
  assert.deepEqual([...lpmKey(parsePrefix('10.1.0.0/16'))], [16, 0, 0, 0, 10, 1, 0, 0]);
  const v6 = lpmKey(parsePrefix('2001:db8::1'));
  assert.equal(v6.length, 20);
  assert.equal(v6.readUInt32LE(0), 128);
  assert.equal(v6.subarray(4).toString('hex'), '20010db8000000000000000000000001');
});

test('live reload: map sizes and metrics settings need a restart, the rest does not', () => {
  const base = parseConfig({ interfaces: [{ name: 'a' }] }, 'x');
  assert.deepEqual(
    settingsNeedingRestart(base, parseConfig({ interfaces: [{ name: 'b' }], vxlanPorts: [1], excludePrefixes: ['10.0.0.0/8'], trackFlows: false }, 'y')),
    [],
  );
  assert.deepEqual(settingsNeedingRestart(base, parseConfig({ maps: { vniCapacity: 5, flowCapacity: 2048 }, metrics: { exportIntervalSeconds: 5 } }, 'y')), [
    'maps.vniCapacity',
    'maps.flowCapacity',
    'metrics.exportIntervalSeconds',
  ]);
});

test('the shipped JSON Schema is generated from the zod schema and up to date', () => {
  const schema = configJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
  assert.deepEqual(Object.keys(schema.properties), Object.keys(DEFAULT_CONFIG));
  assert.equal(schema.additionalProperties, false);
  for (const [key, prop] of Object.entries(schema.properties)) assert.ok(prop.description, `${key} has a description for editors`);
  const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'schema', 'config.schema.json'), 'utf8'));
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(schema)), 'schema/config.schema.json is stale: run `node src/cli.ts schema > schema/config.schema.json`');
  const cli = runCli(['schema']);
  assert.equal(cli.status, 0);
  assert.deepEqual(JSON.parse(cli.stdout), shipped);
});

test('`run` with a bad config: exit 2, every problem named, nothing attached (no root needed to see it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-run-config-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'interfaces: [{name: eth0, mode: fast}]\nvxlanPorts: [0]\nmetrcs: {}\n');
    const r = runCli(['run', '--config', file]);
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(r.stderr, /bad\.yaml: interfaces\[0\]\.mode/);
    assert.match(r.stderr, /bad\.yaml: vxlanPorts\[0\]/);
    assert.match(r.stderr, /bad\.yaml: metrcs: unknown key; did you mean 'metrics'\?/);
    const none = runCli(['run']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /nothing to attach: give --interface NAME/);
    const flags = runCli(['run', '--interface', 'has space']);
    assert.equal(flags.status, 2);
    assert.match(flags.stderr, /--interface\/--mode: interfaces\[0\]\.name/);
    assert.equal(parseYaml('a: 1').a, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `count` distinct IPv4 /32s (10.x.y.z) or IPv6 /128s. */
function prefixes(count: number, family: 4 | 6): string[] {
  return Array.from({ length: count }, (_, i) => (family === 4 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` : `2001:db8::${i.toString(16)}/128`));
}

test('prefix lists longer than the kernel tries hold are refused, naming the key and the limit', () => {
  for (const key of ['excludePrefixes', 'decapPrefixes'] as const) {
    for (const family of [4, 6] as const) {
      const full = parseConfig({ [key]: prefixes(PREFIX_TRIE_CAPACITY, family) }, 'cfg.yaml');
      assert.equal(full[key].length, PREFIX_TRIE_CAPACITY, `${key}: exactly the capacity fits`);
      const over = errorOf({ [key]: prefixes(PREFIX_TRIE_CAPACITY + 1, family) });
      assert.equal(
        over,
        `cfg.yaml: ${key}: ${PREFIX_TRIE_CAPACITY + 1} IPv${family} prefixes, more than the kernel's prefix map holds (${PREFIX_TRIE_CAPACITY} per address family); merge them into shorter prefixes`,
      );
    }
    // Both families full at once fits; a prefix written twice takes one entry.
    parseConfig({ [key]: [...prefixes(PREFIX_TRIE_CAPACITY, 4), ...prefixes(PREFIX_TRIE_CAPACITY, 6)] }, 'cfg.yaml');
    parseConfig({ [key]: [...prefixes(PREFIX_TRIE_CAPACITY, 4), '10.0.0.0/32'] }, 'cfg.yaml');
    // A list longer than both tries together is refused without parsing each entry (a million garbage lines).
    const huge = Array<string>(1_000_000).fill('not a prefix');
    assert.equal(
      errorOf({ [key]: huge }),
      `cfg.yaml: ${key}: 1000000 prefixes, more than the kernel's prefix maps hold (${PREFIX_TRIE_CAPACITY} IPv4 and ${PREFIX_TRIE_CAPACITY} IPv6); merge them into shorter prefixes`,
    );
  }
});

test('PREFIX_TRIE_CAPACITY is max_entries of every prefix trie in the compiled program', () => {
  const lib = libbpf();
  const obj = lib.bpf_object__open_file(bpfObjectPath(), null);
  assert.ok(obj, `open ${bpfObjectPath()}`);
  try {
    for (const name of [MAP_NAMES.dstV4, MAP_NAMES.dstV6, MAP_NAMES.excludeV4, MAP_NAMES.excludeV6]) {
      const map = lib.bpf_object__find_map_by_name(obj, name);
      assert.ok(map, `map ${name} in the object`);
      assert.equal(lib.bpf_map__max_entries(map), PREFIX_TRIE_CAPACITY, `max_entries of ${name}`);
    }
  } finally {
    lib.bpf_object__close(obj);
  }
});

test('a YAML alias bomb, an oversized file and a dangling alias: one line each, exit 2 from the CLI', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-decap-config-'));
  try {
    const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    const bomb = levels
      .map(
        (name, i) =>
          `${name}: &${name} [${Array(9)
            .fill(i === 0 ? '"lol"' : `*${levels[i - 1]}`)
            .join(', ')}]`,
      )
      .join('\n');
    writeFileSync(join(dir, 'bomb.yaml'), `${bomb}\n`);
    writeFileSync(join(dir, 'dangling.yaml'), 'vxlanPorts: *nowhere\n');
    // A million-prefix list, as someone might paste a routing table: refused on its size, before the YAML parser sees it.
    writeFileSync(
      join(dir, 'huge.yaml'),
      `excludePrefixes:\n${prefixes(1_000_000, 4)
        .map((p) => `  - ${p}`)
        .join('\n')}\n`,
    );
    writeFileSync(join(dir, 'huge.json'), JSON.stringify({ excludePrefixes: prefixes(100_000, 4) }));
    const cases: Array<[string, RegExp]> = [
      ['bomb.yaml', /bomb\.yaml: YAML its aliases \(\*name\) expand to too many values \(more than 100 expansions\)/],
      ['dangling.yaml', /dangling\.yaml: (YAML syntax error|YAML ).*nowhere/],
      [
        'huge.yaml',
        new RegExp(
          `huge\\.yaml: the config file is \\d+\\.\\d MiB, larger than any config can be \\(at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: decapPrefixes and excludePrefixes hold at most 1024 IPv4`,
        ),
      ],
      ['huge.json', /huge\.json: the config file is \d+\.\d MiB, larger than any config can be/],
    ];
    for (const [file, message] of cases) {
      await assert.rejects(loadConfigFile(join(dir, file)), (err: unknown) => {
        assert.ok(err instanceof ConfigError, `${file}: ConfigError, got ${String(err)}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), `${file}: one line: ${err.message}`);
        return true;
      });
      const r = runCli(['replay', join(dir, 'no.pcap'), '--out', join(dir, 'no-out.pcap'), '--config', join(dir, file)]);
      assert.equal(r.status, 2, `${file}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
