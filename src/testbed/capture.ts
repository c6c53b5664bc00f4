// tcpdump on a testbed interface, writing a pcap: started and ready before traffic, stopped cleanly after.
import { spawn } from 'node:child_process';

export interface Capture {
  /** Stops tcpdump (SIGINT, so it flushes) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `tcpdump -i IFACE -w FILE` inside `ns` and resolves once it is listening. */
export function startCapture(ns: string, iface: string, file: string, extraArgs: string[] = []): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '--immediate-mode', '-U', '-n', '-w', file, ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump on ${iface} did not start in 10 s: ${said}`));
    }, 10000);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!/listening on/.test(said)) reject(new Error(`tcpdump on ${iface} exited (${code}): ${said}`));
    });
    child.stderr.on('data', (d: Buffer) => {
      said += d.toString();
      if (/listening on/.test(said)) {
        clearTimeout(timer);
        resolve({
          stop: async () => {
            // Let the last frames reach the capture before stopping it.
            await new Promise((r) => setTimeout(r, 200));
            child.kill('SIGINT');
            await exited;
          },
        });
      }
    });
  });
}
