// Guardian for a testbed: started detached, it waits for its owner process to end (even by SIGKILL), then
// kills every process left in the testbed's namespaces and deletes them. Usage: janitor.js OWNER_PID NS...
import { removeNamespace } from './namespaces.ts';

const [ownerArg, ...namespaces] = process.argv.slice(2);
const owner = Number(ownerArg);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

if (ownerArg && Number.isInteger(owner)) {
  const timer = setInterval(() => {
    if (alive(owner)) return;
    clearInterval(timer);
    for (const ns of namespaces) removeNamespace(ns);
    process.exit(0);
  }, 200);
}
