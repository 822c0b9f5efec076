import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { recordClicks, startSwitchyard, type Child } from '../../bench/redirect.js';

/** The built server; `npm test` builds before running vitest. */
const MAIN = path.resolve('dist/main.js');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redirect-'));
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listening(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    if (server instanceof http.Server) server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as net.AddressInfo).port;
}

/** A node child running `code`, as the bench holds its servers. */
function child(code: string): Child {
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  closers.push(() => proc.kill('SIGKILL'));
  let output = '';
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child: proc, output: () => output, closed: new Promise((resolve) => proc.once('close', resolve)) };
}

it('a Switchyard whose port is taken fails the bench at once with its exit code and message, not after 10 s of silence', async () => {
  // Another process on the port, hanging up on whoever connects.
  const port = await listening(net.createServer((socket) => socket.destroy()));
  // A readiness wait far past the test's own timeout: only noticing the exit can make this pass, however
  // slow the machine (the message names the exit, where the wait running out names the timeout).
  await expect(startSwitchyard(path.join(dataDir, 'taken'), 'normal', '', { port, main: MAIN, readyTimeoutMs: 600_000 })).rejects.toThrow(
    /exited before it answered \/healthz, exit code 1; its output:\n.*PORT=\d+: another process already listens there/,
  );
});

it('a Switchyard that never answers /healthz is stopped and named when the wait runs out', async () => {
  const script = path.join(dataDir, 'silent.js');
  fs.writeFileSync(script, "process.stderr.write('starting, slowly\\n'); setInterval(() => {}, 1000);\n");
  await expect(startSwitchyard(path.join(dataDir, 'silent'), 'full', '', { main: script, readyTimeoutMs: 500 })).rejects.toThrow(
    /did not answer http:\/\/127\.0\.0\.1:\d+\/healthz within 0\.5 s; stopped it, killed by SIGTERM; its output:\nstarting, slowly/,
  );
});

it('the memory run ends with the exit code of a server that stopped, instead of adding zero clicks for ever', async () => {
  const server = child("process.stderr.write('out of memory, say\\n'); process.exit(3)");
  await server.closed;
  const port = await listening(net.createServer());
  await closers.pop()?.(); // nothing listens there any more
  await expect(recordClicks(server, `http://127.0.0.1:${port}`, '/c', 1000, 2, 1)).rejects.toThrow(
    /the server stopped after ~0 clicks of the memory run, exit code 3; its output:\nout of memory, say/,
  );
});

it('the memory run ends, saying after how many clicks, when a live server stops redirecting', async () => {
  let redirects = 150;
  const web = http.createServer((req, res) => {
    // Resident memory comes from the same server's /metrics; the clicks stop being redirected after the first read.
    if (req.url === '/metrics') {
      redirects = 0;
      res.end('switchyard_process_resident_memory_bytes 104857600\n');
    } else if (redirects-- > 0) {
      res.writeHead(302, { location: 'https://example.com/' }).end();
    } else {
      res.writeHead(503).end();
    }
  });
  const port = await listening(web);
  const server = child('setInterval(() => {}, 1000)');
  await expect(recordClicks(server, `http://127.0.0.1:${port}`, '/c', 1_000_000, 2, 1)).rejects.toThrow(
    /the server stopped answering after ~150 clicks of the memory run: no click got a redirect in 1 s \(\d+ answers, \d+ of them errors/,
  );
});
