import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_MS } from '../../src/server.js';
import { tempDir } from '../support/api-server.js';
import { withClicksDb } from '../support/clicks.js';

const MAIN = path.resolve('dist/main.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function startProcess(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never saw ${pattern}; output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return output;
  };
  return { child, waitFor, output: () => output };
}

/** A client that sent the headers and the start of a body, then stalls: a request in flight for good. */
async function stalledRequest(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('POST /postback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"transaction_id":');
  return socket;
}

const listeningPort = (output: string) => Number(/"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(output)?.[1]);

describe('the server process', () => {
  it('prints a generated admin key once, names the migrations it ran, serves /healthz, and exits cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    const first = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    const output = await first.waitFor(/Switchyard is ready/);
    expect(output).toMatch(/"migrations":\["0001_[a-z_]+",/);
    const key = /\n {2}(sy_\d+_[A-Za-z0-9_-]{43})\n/.exec(output)?.[1];
    expect(key).toBeDefined();
    const base = `http://127.0.0.1:${listeningPort(output)}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const listed = await fetch(`${base}/api/v1/advertisers`, { headers: { authorization: `Bearer ${key}` } });
    expect(listed.status).toBe(200);
    first.child.kill('SIGTERM');
    const [code] = await once(first.child, 'exit');
    expect(code).toBe(0);

    const second = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    const again = await second.waitFor(/Switchyard is ready/);
    expect(again).not.toMatch(/sy_\d+_/);
    expect(again).not.toMatch(/migrat/);
    const reused = await fetch(`http://127.0.0.1:${listeningPort(again)}/api/v1/advertisers`, { headers: { authorization: `Bearer ${key}` } });
    expect(reused.status).toBe(200);
  });

  it('a first start that cannot listen (the port is taken) does not use up the one showing of a generated admin key', async () => {
    const dataDir = tempDir();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const failed = startProcess({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
      const [code] = await once(failed.child, 'exit');
      expect(code).toBe(1);
      expect(failed.output()).not.toMatch(/sy_\d+_/);
      expect(failed.output()).toContain(`Switchyard cannot listen: PORT=${port}: another process already listens there`);
    } finally {
      taken.close();
    }
    const next = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    expect(await next.waitFor(/Switchyard is ready/)).toMatch(/created an admin API key[\s\S]*sy_\d+_/);
  });

  it('SIGTERM ends the process within the grace period even while a client stalls halfway through a request', async () => {
    const server = startProcess({ DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1' });
    const port = listeningPort(await server.waitFor(/Switchyard is ready/));
    const socket = await stalledRequest(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    server.child.kill('SIGTERM');
    const [code] = await once(server.child, 'exit');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_GRACE_MS + 3_000);
    socket.destroy();
  }, 20_000);

  it('a second signal at once (Ctrl-C under npm start sends two) still drains; one sent later exits at once', async () => {
    const twice = startProcess({ DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1' });
    await twice.waitFor(/Switchyard is ready/);
    // A request in flight keeps the drain going while the second copy arrives.
    const port = listeningPort(twice.output());
    const slow = await stalledRequest(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = once(twice.child, 'exit');
    // Not quite together: the same signal twice before the first is handled would arrive once.
    twice.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    twice.child.kill('SIGINT');
    const [code] = await exited;
    slow.destroy();
    expect(code).toBe(0);
    expect(twice.output()).not.toMatch(/shutting down at once/);

    // A stalled request holds the drain open; the operator's later signal ends it.
    const insisted = startProcess({ DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1' });
    const socket = await stalledRequest(listeningPort(await insisted.waitFor(/Switchyard is ready/)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    insisted.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const insistedExit = once(insisted.child, 'exit');
    insisted.child.kill('SIGTERM');
    const [insistedCode] = await insistedExit;
    // Exit code 1 with "shutting down at once" is the insisting signal's own exit (the drain would end
    // with 0 once the grace period cut the stalled request), whatever the machine's speed.
    expect(insistedCode).toBe(1);
    expect(insisted.output()).toMatch(/shutting down at once/);
    expect(insisted.output()).not.toMatch(/shutdown failed/);
    socket.destroy();
  }, 20_000);

  it.each([
    ['PORT', 'eighty'],
    // Fastify threw on it at start with a stack trace from inside its proxy module.
    ['TRUST_PROXY', '10.0.0.0/33'],
    // Checked only when the server opens it: ENOENT or a parse error, naming no variable.
    ['GEOIP_DB', '/nonexistent/city.mmdb'],
    ['GEOIP_DB', path.resolve('package.json')],
  ])('refuses to start on invalid configuration and names the variable (%s=%s)', async (name, value) => {
    const bad = startProcess({ DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1', [name]: value });
    const [code] = await once(bad.child, 'exit');
    expect(code).toBe(1);
    expect(bad.output()).toMatch(new RegExp(`invalid configuration[\\s\\S]*${name}`));
  });

  it('refuses a database written by a newer version, or a DATA_DIR it cannot use, saying so and naming DATA_DIR', async () => {
    const dataDir = tempDir();
    const first = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    await first.waitFor(/Switchyard is ready/);
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    const db = new Database(path.join(dataDir, 'switchyard.db'));
    db.prepare("insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2099-01-01')").run();
    db.close();
    const newer = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    const [code] = await once(newer.child, 'exit');
    expect(code).toBe(1);
    expect(newer.output()).toMatch(/DATA_DIR=.*written by a newer Switchyard.*9999_from_the_future/);
    expect(newer.output()).not.toMatch(/\n\s+at /);

    const notADirectory = path.join(dataDir, 'switchyard.db');
    const unusable = startProcess({ DATA_DIR: notADirectory, PORT: '0', HOST: '127.0.0.1' });
    const [unusableCode] = await once(unusable.child, 'exit');
    expect(unusableCode).toBe(1);
    expect(unusable.output()).toMatch(/cannot use its database in DATA_DIR=/);
    expect(unusable.output()).not.toMatch(/\n\s+at /);
  });

  it('keeps its secrets to itself: no verification_token in debug logs, and a new DATA_DIR and database only its owner may read', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const server = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', SWITCHYARD_ADMIN_KEY: 'process-test-admin-key-0123' });
    const base = `http://127.0.0.1:${listeningPort(await server.waitFor(/Switchyard is ready/))}`;
    const answer = await fetch(`${base}/postback?transaction_id=${'a'.repeat(32)}&verification_token=advertiser-secret-XYZZY&amount=1`);
    expect(answer.status).toBe(404);
    // The query parser decodes names, so an encoded one is the same parameter and must be masked too.
    expect((await fetch(`${base}/postback?transaction_id=${'b'.repeat(32)}&verification%5Ftoken=advertiser-secret-XYZZY`)).status).toBe(404);
    expect((await fetch(`${base}/postback?transaction_id=${'c'.repeat(32)}&Verification_Token=advertiser-secret-XYZZY`)).status).toBe(404);
    const output = await server.waitFor(/verification%5Ftoken=\[redacted\]/);
    expect(output).toMatch(/verification_token=\[redacted\]/);
    await server.waitFor(/Verification_Token=\[redacted\]/);
    expect(server.output()).not.toContain('advertiser-secret-XYZZY');
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
    expect((fs.statSync(path.join(dataDir, 'switchyard.db')).mode & 0o777).toString(8)).toBe('600');
  });

  it.each(['300.1.1.1', 'no-such-host.invalid'])('a HOST it cannot listen on (%s) is named, without a stack trace', async (host) => {
    const failed = startProcess({ DATA_DIR: tempDir(), PORT: '0', HOST: host });
    const [code] = await once(failed.child, 'exit');
    expect(code).toBe(1);
    expect(failed.output()).toContain(`Switchyard cannot listen: HOST=${host}`);
    expect(failed.output()).not.toMatch(/\n\s+at /);
  });

  it('rebuild-aggregates refuses a DATA_DIR without a database (a typo) instead of making an empty one, and names a bad setting', () => {
    const rebuild = (env: Record<string, string>) =>
      spawnSync(process.execPath, [path.resolve('dist/rebuild-aggregates.js')], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    const typo = path.join(tempDir(), 'dta');
    const missing = rebuild({ DATA_DIR: typo });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`DATA_DIR=${typo} holds no Switchyard database`);
    expect(fs.existsSync(typo)).toBe(false);
    const bad = rebuild({ DATA_DIR: tempDir(), SQLITE_SYNCHRONOUS: 'fast' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid configuration[\s\S]*SQLITE_SYNCHRONOUS/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('--demo seeds the example network and prints a tracking URL that routes each platform to its offer', async () => {
    const dataDir = tempDir();
    // PORT=0 without PUBLIC_URL: the printed URL must carry the port the server got, not 0.
    const demo = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, ['--demo']);
    const output = await demo.waitFor(/Tracking URL: +\S+/);
    const listening = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    const printed = /Tracking URL: +(\S+)/.exec(output)?.[1];
    expect(printed, output).toMatch(new RegExp(`^http://localhost:${listening}/sl/[A-Za-z0-9_-]+$`));
    const trackingUrl = printed?.replace('localhost', '127.0.0.1');
    expect(output).toMatch(/Admin API key: +sy_\d+_/);
    const landing = async (userAgent: string) =>
      (await fetch(trackingUrl as string, { redirect: 'manual', headers: { 'user-agent': userAgent } })).headers.get('location');
    expect(await landing('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1')).toMatch(/^https:\/\/example\.com\/ios\/creative-[abc]\?/);
    expect(await landing('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36')).toMatch(/^https:\/\/example\.com\/android\/creative-[abc]\?/);
    expect(await landing('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36')).toMatch(/^https:\/\/example\.com\/desktop\/creative-[abc]\?/);
    expect(await landing('curl/8.5')).toMatch(/^https:\/\/example\.com\/everything-else\?/);

    // Again on the same database: nothing is seeded, and no admin key is made that nobody is shown.
    demo.child.kill('SIGTERM');
    await once(demo.child, 'exit');
    const keys = () => withClicksDb(dataDir, (db) => (db.prepare('select count(*) as n from api_keys').get() as { n: number }).n);
    const before = keys();
    const again = startProcess({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' }, ['--demo']);
    await again.waitFor(/already has smart links/);
    expect(keys()).toBe(before);
  });
});
