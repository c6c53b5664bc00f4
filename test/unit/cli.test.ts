// The command line without root: help, unknown commands and flags, usage errors, exit codes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../lib/cli.ts';

test('help lists the commands; no command is a usage error', () => {
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  for (const c of ['demo', 'run', 'validate', 'status', 'detach', 'replay', 'reconcile', 'schema']) assert.match(help.stdout, new RegExp(`\\n  ${c} `));
  assert.equal(runCli([]).status, 2);
  for (const c of ['demo', 'run', 'validate', 'status', 'detach', 'replay', 'reconcile', 'schema', '--version']) {
    const r = runCli([c, '--help']);
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, /^Usage: xdp-decap /);
    assert.match(r.stdout, /Example|Options/);
  }
});

test('usage errors: one line, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'; commands: demo, run/],
    [['replay', '--bogus'], /Unknown option '--bogus'.*see xdp-decap replay --help/],
    [['replay', 'a.pcap', 'b.pcap', '--out', 'x'], /replay takes IN\.pcap, got 2 arguments; see xdp-decap replay --help/],
    [['replay', 'a.pcap'], /replay needs --out OUT\.pcap: where to write/],
    [['validate'], /validate needs --config FILE/],
    [['detach'], /detach needs --interface NAME/],
    [['demo', '--vnis', '0'], /--vnis 0: expected a whole number from 1 to 20/],
    [['demo', '--duration', 'soon'], /--duration soon: expected a whole number from 1 to 600/],
    [['demo', '--otlp', 'ftp://x'], /--otlp ftp:\/\/x: expected an http\(s\) URL/],
    [['run', '--interface', 'eth0', '--log-level', 'loud'], /--log-level loud: expected one of debug, info, warn, error/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('the error path: a user mistake is one line and exit 2; anything else is a bug, with its stack and exit 70', async () => {
  const { reportError } = await import('../../src/cli.ts');
  const { UsageError } = await import('../../src/commands/usage.ts');
  const { ConfigError } = await import('../../src/config/load.ts');
  const { CaptureError } = await import('../../src/replay/pcap.ts');
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  try {
    const cases: Array<[unknown, number, RegExp]> = [
      [new UsageError('replay needs --out OUT.pcap'), 2, /^xdp-decap replay: replay needs --out OUT\.pcap$/],
      [new ConfigError('c.yaml', ['vxlanPorts[0]: too big']), 2, /^xdp-decap replay: c\.yaml: vxlanPorts\[0\]: too big$/],
      [new CaptureError('a.pcap', 'no such file; check the path'), 2, /^xdp-decap replay: a\.pcap: no such file; check the path$/],
      [
        new RangeError('offset out of range'),
        70,
        /^xdp-decap replay: internal error \(a bug in xdp-decap, not in your input; please report it with this output\):\nRangeError: offset out of range\n\s+at /,
      ],
      ['a string thrown', 70, /internal error.*\na string thrown$/],
    ];
    for (const [err, code, message] of cases) {
      printed.length = 0;
      assert.equal(reportError('replay', err), code, String(err));
      assert.match(printed.join('\n'), message);
    }
  } finally {
    console.error = original;
  }
});

test('replay - reads stdin: an empty or non-capture stdin is one line and exit 2, before anything is loaded', async () => {
  const { spawnSync } = await import('node:child_process');
  const { CLI } = await import('../lib/cli.ts');
  for (const [input, message] of [
    ['', /^xdp-decap replay: stdin: empty file, not a pcap or pcapng capture/],
    ['GET / HTTP/1.1\r\n\r\n', /^xdp-decap replay: stdin: not a pcap or pcapng capture \(unknown file format\)/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'replay', '-', '--out', '-'], { input, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '', 'nothing on stdout');
  }
});
