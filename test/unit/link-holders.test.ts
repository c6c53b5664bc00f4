// Who holds a bpf_link: /proc/PID/fd links to anon_inode:bpf_link whose fdinfo names the link id (a fake /proc here).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describePid, linkHolderPids } from '../../src/plugin/link-holders.ts';

function fakeProc(t: { after(fn: () => void): void }): string {
  const proc = mkdtempSync(join(tmpdir(), 'xdp-decap-proc-'));
  t.after(() => rmSync(proc, { recursive: true, force: true }));
  const fd = (pid: number, n: number, target: string, fdinfo: string) => {
    mkdirSync(join(proc, String(pid), 'fd'), { recursive: true });
    mkdirSync(join(proc, String(pid), 'fdinfo'), { recursive: true });
    symlinkSync(target, join(proc, String(pid), 'fd', String(n)));
    writeFileSync(join(proc, String(pid), 'fdinfo', String(n)), fdinfo);
  };
  fd(100, 7, 'anon_inode:bpf_link', 'pos:\t0\nlink_type:\txdp\nlink_id:\t17\nprog_id:\t55\n');
  fd(200, 3, 'anon_inode:bpf_link', 'link_type:\txdp\nlink_id:\t170\nprog_id:\t56\n');
  fd(300, 4, '/var/log/x', 'link_id:\t17\n'); // not a link: ignored whatever its fdinfo says
  fd(process.pid, 9, 'anon_inode:bpf_link', 'link_id:\t17\n'); // ourselves: never "another" holder
  writeFileSync(join(proc, '100', 'cmdline'), ['/usr/bin/node', '/opt/xdp-decap/dist/src/cli.js', 'run', '--interface', 'cap0', ''].join('\0'));
  mkdirSync(join(proc, 'self'));
  return proc;
}

test('linkHolderPids: the processes with an fd on that link id, not this one, not other links', (t) => {
  const proc = fakeProc(t);
  assert.deepEqual(linkHolderPids(17, proc), [100]);
  assert.deepEqual(linkHolderPids(170, proc), [200], 'link 17 does not match link 170');
  assert.deepEqual(linkHolderPids(99, proc), []);
  assert.deepEqual(linkHolderPids(17, join(proc, 'nosuch')), [], 'no /proc: nobody known');
});

test('describePid: the xdp-decap command line from the script on; just the pid when unreadable', (t) => {
  const proc = fakeProc(t);
  assert.equal(describePid(100, proc), 'pid 100 (xdp-decap run --interface cap0)');
  assert.equal(describePid(200, proc), 'pid 200');
});
