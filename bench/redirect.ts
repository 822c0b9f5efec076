/**
 * Redirect benchmark (SPEC §13.1). In one run: the disk's fsync latency (the floor of a durable
 * answer), a bare node:http server answering a fixed 302, and Switchyard routing a 20-entry
 * weighted smart link with durable recording in FULL and NORMAL modes — all loaded by the same
 * autocannon process at the same concurrency, in rounds that take the three servers in turn (a
 * drifting machine drifts for all of them), medians reported; a ratio to bare is the median of the
 * per-round ratios. Then resident memory with 1,000 smart links of 20 entries, and after many
 * recorded clicks.
 * Each server's CPU time (all its threads, from /proc) divided by the requests it answered is printed
 * too: on a shared machine it moves far less than req/s, so it is the figure to compare changes by.
 * Options: --connections N (64) --seconds N (8) --repeats N (3) --memory-clicks N (1000000)
 * --load-cpus LIST --server-cpus LIST: pin autocannon and the servers with `taskset -c LIST` (Linux,
 * util-linux), e.g. `--load-cpus 1 --server-cpus 0` on 2 cores, so the load generator does not compete
 * with the server for a core. Bare and Switchyard are always run under the same pinning, and the
 * output says which was used (none by default).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptions, cleanupOnSignal, median, option, percentile, round, slope, syncLatenciesMs } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(here, '../src/main.js');
const BARE = path.join(here, 'bare-302.js');
const AUTOCANNON = path.resolve('node_modules/autocannon/autocannon.js');
const ADMIN_KEY = 'bench-admin-key-0123456789';
/** Set on every server the bench starts, so a METRICS_TOKEN in the caller's environment cannot hide /metrics. */
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx3xx: number;
  requests: number;
  /** Connections refused or reset, and requests with no answer before autocannon's timeout. */
  errors: number;
  timeouts: number;
}

interface Pinning {
  loadCpus: string;
  serverCpus: string;
}

/** `command args` as spawn arguments, under `taskset -c cpus` when cpus is set. */
function pinned(cpus: string, command: string, args: string[]): [string, string[]] {
  return cpus === '' ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}

const CLOCK_TICKS_PER_S = 100;
/** The unrecorded load each server gets before the measured rounds. */
const WARM_UP_SECONDS = 2;

/** CPU seconds a process (every thread) has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** Every child this run started (servers, load generators): stopped when it ends, fails or is interrupted. */
const children = new Set<ChildProcess>();

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** A child process the bench started, with everything it wrote on stdout and stderr. */
export interface Child {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the child has exited and its output has been read to the end. */
  closed: Promise<unknown>;
}

/** How a child ended and what it said, for an error message. */
async function ending(child: Child): Promise<string> {
  await child.closed;
  const how = child.child.signalCode !== null ? `killed by ${child.child.signalCode}` : `exit code ${String(child.child.exitCode)}`;
  const output = child.output().trim();
  return `${how}; its output:\n${output === '' ? '(none)' : output.split('\n').slice(-20).join('\n')}`;
}

/** Starts a node child; resolves once its output matches `ready` (null: at once). */
function startChild(args: string[], env: Record<string, string>, ready: RegExp | null, cpus = ''): Promise<Child> {
  // taskset execs node in place, so the child's pid is the server's.
  const child = spawn(...pinned(cpus, process.execPath, args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const closed = new Promise((resolve) => child.once('close', resolve));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Not started at all (taskset missing): exitCode is set and the message lands in the output.
  child.once('error', (err) => (output += `${err.message}\n`));
  const started: Child = { child, output: () => output, closed };
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready === null || ready.test(output)) {
        clearInterval(timer);
        resolve(started);
      } else if (exited(child)) {
        clearInterval(timer);
        void ending(started).then((how) => reject(new Error(`${path.basename(args[0] ?? 'child')} exited before it was ready, ${how}`)));
      }
    }, 20);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (exited(child)) return;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exit;
}

/** One autocannon run in its own process, so the load generator never shares a thread with a server. */
async function load(url: string, connections: number, seconds: number, cpus = ''): Promise<Load> {
  const child = spawn(...pinned(cpus, process.execPath, [AUTOCANNON, '--json', '-c', String(connections), '-d', String(seconds), url]), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  children.delete(child);
  if (code !== 0 || out.trim() === '') throw new Error(`the load generator failed (exit ${String(code)}):\n${err.trim()}`);
  const result = JSON.parse(out) as {
    requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; '3xx'?: number; errors?: number; timeouts?: number;
  };
  return {
    rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx3xx: result.non2xx - (result['3xx'] ?? 0),
    requests: result.requests.total, errors: result.errors ?? 0, timeouts: result.timeouts ?? 0,
  };
}

interface Target {
  name: string;
  url: string;
  server: ChildProcess;
}

type Summary = Load & { cpuUsPerReq: number; runs: Load[] };

/**
 * Loads the targets in turn, round after round, so that a machine whose speed drifts (shared cores)
 * drifts for all of them alike; a target's figures are the medians over its rounds, and its CPU
 * microseconds per request are counted over its own runs only.
 */
async function interleavedLoads(targets: Target[], connections: number, seconds: number, repeats: number, pinning: Pinning): Promise<Map<string, Summary>> {
  const runs = new Map<string, Load[]>(targets.map((t) => [t.name, []]));
  const cpu = new Map<string, number>(targets.map((t) => [t.name, 0]));
  // A first, unrecorded load per target: a fresh server's first second (JIT, first WAL pages) would
  // otherwise land in round 1 only, always as its slowest run, and in its CPU per request.
  for (const { url } of targets) await load(url, connections, WARM_UP_SECONDS, pinning.loadCpus);
  for (let round = 0; round < repeats; round++) {
    for (const { name, url, server } of targets) {
      const before = cpuSeconds(server.pid);
      runs.get(name)?.push(await load(url, connections, seconds, pinning.loadCpus));
      cpu.set(name, (cpu.get(name) ?? 0) + cpuSeconds(server.pid) - before);
    }
  }
  return new Map(targets.map(({ name }) => {
    const own = runs.get(name) ?? [];
    const requests = own.reduce((sum, r) => sum + r.requests, 0);
    return [name, {
      rps: median(own.map((r) => r.rps)),
      p50: median(own.map((r) => r.p50)),
      p99: median(own.map((r) => r.p99)),
      non2xx3xx: own.reduce((sum, r) => sum + r.non2xx3xx, 0),
      requests,
      errors: own.reduce((sum, r) => sum + r.errors, 0),
      timeouts: own.reduce((sum, r) => sum + r.timeouts, 0),
      cpuUsPerReq: round(((cpu.get(name) ?? 0) * 1e6) / requests, 1),
      runs: own,
    }];
  }));
}

/** The median over rounds of a target's req/s over the bare server's in the same round. */
function pairedRatio(target: Summary, bare: Summary): number {
  return round(median(target.runs.map((run, i) => run.rps / (bare.runs[i]?.rps ?? NaN))));
}

async function api(base: string, method: string, route: string, body?: unknown): Promise<{ id: number; url: string }> {
  const res = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: number; url: string };
}

/** A 20-entry weighted smart link whose offers carry light targeting; returns a tracking URL. */
async function seedLinks(base: string, links: number): Promise<string> {
  const advertiser = await api(base, 'POST', '/advertisers', { name: 'Bench' });
  const offers: number[] = [];
  for (let i = 0; i < 20; i++) {
    const offer = await api(base, 'POST', '/offers', {
      advertiser_id: advertiser.id,
      name: `Offer ${i}`,
      destination_url: `https://adv${i}.example/land?tid={transaction_id}&p={partner_id}&s={sub1}`,
      ruleset: { rules: [{ dimension: 'country', op: 'exclude', values: ['KP', 'IR'] }] },
    });
    offers.push(offer.id);
  }
  const partner = await api(base, 'POST', '/partners', { name: 'Bench partner' });
  let first = 0;
  for (let l = 0; l < links; l++) {
    const link = await api(base, 'POST', '/smart-links', {
      name: `Bench link ${l}`,
      routing: 'weight',
      entries: offers.map((offer_id, i) => ({ offer_id, routing_value: 1 + (i % 5), ruleset: { rules: [{ dimension: 'device_type', op: 'exclude', values: ['bot'] }] } })),
    });
    if (l === 0) first = link.id;
  }
  return (await api(base, 'POST', `/smart-links/${first}/tracking-links`, { partner_id: partner.id, sub1: 'bench' })).url;
}

/** A loopback port nothing listens on right now (the system picks it). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface StartOptions {
  /** Default: a free port. */
  port?: number;
  /** The server's entry point; default the built src/main.js beside this file. */
  main?: string;
  /** How long the server may take to answer /healthz (default 10 s). */
  readyTimeoutMs?: number;
}

/**
 * Starts Switchyard and resolves once it answers /healthz. Fails at once, with its exit code and
 * output, if it exits first (a port already taken, a bad setting in the caller's environment), and
 * stops it and fails if it does not answer within the timeout.
 */
export async function startSwitchyard(dataDir: string, synchronous: 'full' | 'normal', cpus = '', options: StartOptions = {}): Promise<{ server: Child; base: string }> {
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const server = await startChild([options.main ?? MAIN], {
    DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SWITCHYARD_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'warn',
    SQLITE_SYNCHRONOUS: synchronous, PUBLIC_URL: base, METRICS_TOKEN,
  }, null, cpus);
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (exited(server.child)) throw new Error(`Switchyard (${synchronous}, port ${port}) exited before it answered /healthz, ${await ending(server)}`);
    const healthy = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    // A server that exits at once (its port taken) must not be mistaken for whatever answers there.
    if (healthy && !exited(server.child)) return { server, base };
    if (performance.now() > deadline && !exited(server.child)) {
      await stop(server.child);
      throw new Error(`Switchyard (${synchronous}, port ${port}) did not answer ${base}/healthz within ${readyTimeoutMs / 1000} s; stopped it, ${await ending(server)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function residentMb(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
    throw new Error(`cannot read resident memory: ${base}/metrics did not answer (${err instanceof Error ? err.message : String(err)})`);
  });
  const text = await res.text();
  const bytes = /^switchyard_process_resident_memory_bytes (\d+)/m.exec(text)?.[1];
  if (!res.ok || bytes === undefined) throw new Error(`cannot read resident memory from ${base}/metrics: ${res.status} ${text.slice(0, 200)}`);
  return round(Number(bytes) / 1024 / 1024, 1);
}

/** What the memory phase recorded: clicks answered so far, and the resident memory after each run. */
export interface Recorded {
  sent: number;
  rssSamples: number[];
  sentAt: number[];
}

/**
 * Sends clicks to `url` in runs of `seconds` until `clicks` have been answered with a redirect,
 * reading resident memory after each run. Fails, saying after how many clicks, as soon as the
 * server has exited or a whole run got no redirect back (it would otherwise loop for ever).
 */
export async function recordClicks(server: Child, base: string, url: string, clicks: number, connections: number, seconds = 10): Promise<Recorded> {
  const recorded: Recorded = { sent: 0, rssSamples: [], sentAt: [] };
  while (recorded.sent < clicks) {
    const result = await load(base + url, connections, seconds);
    if (exited(server.child)) throw new Error(`the server stopped after ~${recorded.sent} clicks of the memory run, ${await ending(server)}`);
    const answered = result.requests - result.non2xx3xx;
    if (answered <= 0) {
      throw new Error(
        `the server stopped answering after ~${recorded.sent} clicks of the memory run: no click got a redirect in ${seconds} s ` +
          `(${result.requests} answers, ${result.non2xx3xx} of them errors; ${result.errors} connection errors, ${result.timeouts} timeouts)`,
      );
    }
    recorded.sent += answered;
    recorded.rssSamples.push(await residentMb(base));
    recorded.sentAt.push(recorded.sent);
  }
  return recorded;
}

export async function main(args: string[]): Promise<void> {
  checkOptions('redirect', args, { values: ['connections', 'seconds', 'repeats', 'memory-clicks', 'load-cpus', 'server-cpus'] });
  const connections = option(args, 'connections', 64, 1);
  const seconds = option(args, 'seconds', 8, 1);
  const repeats = option(args, 'repeats', 3, 1);
  const memoryClicks = option(args, 'memory-clicks', 1_000_000);
  const textOption = (name: string) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? (args[index + 1] ?? '') : '';
  };
  const pinning: Pinning = { loadCpus: textOption('load-cpus'), serverCpus: textOption('server-cpus') };
  const pinText = `load generator on cpus ${pinning.loadCpus || 'any'}, servers on cpus ${pinning.serverCpus || 'any'}`;
  const dataRoot = path.resolve(process.env.DATA_DIR ?? './data');
  fs.mkdirSync(dataRoot, { recursive: true });
  const root = fs.mkdtempSync(path.join(dataRoot, 'bench-redirect-'));
  // Ctrl-C: the servers go first, then their folder.
  const forget = cleanupOnSignal(() => {
    for (const child of children) child.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });
  try {
    const fsync = syncLatenciesMs(root);
    const fsyncP50 = round(percentile(fsync, 50));
    const fsyncP99 = round(percentile(fsync, 99));
    console.log(`fsync of ${root}: p50 ${fsyncP50} ms, p99 ${fsyncP99} ms (${os.cpus().length} cores; ${pinText})`);

    const bare = await startChild([BARE, '0'], {}, /listening \d+/, pinning.serverCpus);
    const barePort = /listening (\d+)/.exec(bare.output())?.[1];
    const targets: Target[] = [{ name: 'bare', url: `http://127.0.0.1:${barePort}/`, server: bare.child }];
    for (const mode of ['full', 'normal'] as const) {
      const { server, base } = await startSwitchyard(path.join(root, mode), mode, pinning.serverCpus);
      targets.push({ name: mode, url: await seedLinks(base, 1), server: server.child });
    }
    const loads = await interleavedLoads(targets, connections, seconds, repeats, pinning);
    for (const target of targets) await stop(target.server);
    const bareLoad = loads.get('bare') as Summary;
    const full = loads.get('full') as Summary;
    const normal = loads.get('normal') as Summary;
    console.log(`bare node:http 302: ${Math.round(bareLoad.rps)} req/s, p50 ${bareLoad.p50} ms, p99 ${bareLoad.p99} ms, ${bareLoad.cpuUsPerReq} µs CPU/request`);
    for (const [mode, m] of [['full', full], ['normal', normal]] as const) {
      console.log(`switchyard ${mode}: ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, errors ${m.non2xx3xx}, ${m.cpuUsPerReq} µs CPU/request (all threads), ${pairedRatio(m, bareLoad)} × bare (median of per-round ratios)`);
    }

    // Memory is read from a fresh process that loaded the 1,000 links at start, not from the one
    // that built them through 20,000 API calls, whose heap still holds that garbage.
    const memoryDir = path.join(root, 'memory');
    const seeding = await startSwitchyard(memoryDir, 'normal');
    const url = (await seedLinks(seeding.base, 1000)).replace(seeding.base, '');
    await stop(seeding.server.child);
    const { server, base } = await startSwitchyard(memoryDir, 'normal');
    const rssLoaded = await residentMb(base);
    const { sent, rssSamples, sentAt } = await recordClicks(server, base, url, memoryClicks, connections);
    const rssAfter = rssSamples[rssSamples.length - 1] ?? rssLoaded;
    const rssMax = Math.max(rssLoaded, ...rssSamples);
    const growth = round(slope(sentAt, rssSamples) * 1e6, 1);
    console.log(
      `memory: ${rssLoaded} MB with 1000 links × 20 entries; after ~${sent} clicks ${rssAfter} MB, highest ${rssMax} MB, ` +
        `trend ${growth} MB per million clicks (samples ${rssSamples.join(', ')})`,
    );
    await stop(server.child);

    console.log(
      `BENCH redirect bare_rps=${Math.round(bareLoad.rps)} bare_p99_ms=${bareLoad.p99} full_rps=${Math.round(full.rps)} full_p50_ms=${full.p50} full_p99_ms=${full.p99} ` +
        `normal_rps=${Math.round(normal.rps)} normal_p99_ms=${normal.p99} ratio_full=${pairedRatio(full, bareLoad)} ratio_normal=${pairedRatio(normal, bareLoad)} ` +
        `fsync_p50_ms=${fsyncP50} fsync_p99_ms=${fsyncP99} full_p99_minus_fsync_p99_ms=${round(full.p99 - fsyncP99)} ` +
        `rss_loaded_mb=${rssLoaded} rss_after_clicks_mb=${rssAfter} rss_max_mb=${rssMax} rss_mb_per_million_clicks=${growth} clicks=${sent} connections=${connections} ` +
        `bare_cpu_us_per_req=${bareLoad.cpuUsPerReq} full_cpu_us_per_req=${full.cpuUsPerReq} normal_cpu_us_per_req=${normal.cpuUsPerReq} ` +
        `load_cpus=${pinning.loadCpus || 'any'} server_cpus=${pinning.serverCpus || 'any'}`,
    );
  } finally {
    // A failed run must not leave its servers listening, nor remove their folder from under them.
    await Promise.all([...children].map(stop));
    forget();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
