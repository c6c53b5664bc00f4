// A minimal OTLP/HTTP JSON receiver for the demo and the tests, run inside a testbed namespace:
// `node otlp-sink.js PORT OUTFILE [LOGSFILE]` appends each metrics export (and, given LOGSFILE, each logs export)
// as one JSON line and prints "listening PORT" when ready.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [portArg, outFile, logsFile] = process.argv.slice(2);
if (!portArg || !outFile) {
  console.error('usage: otlp-sink PORT OUTFILE [LOGSFILE]');
  process.exit(2);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const target = req.url === '/v1/metrics' ? outFile : req.url === '/v1/logs' ? logsFile : undefined;
    if (req.method !== 'POST' || !target || !String(req.headers['content-type']).includes('json')) {
      res.writeHead(415).end(`this sink takes OTLP/HTTP JSON on /v1/metrics${logsFile ? ' and /v1/logs' : ''}`);
      return;
    }
    try {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      appendFileSync(target, `${JSON.stringify({ headers: req.headers, body })}\n`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      res.writeHead(400).end('body is not JSON');
    }
  });
});
server.listen(Number(portArg), '127.0.0.1', () => console.log(`listening ${portArg}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
