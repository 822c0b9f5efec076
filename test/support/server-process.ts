import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

/** The built server; `npm test` builds before running vitest, so it exists. */
export const MAIN = path.resolve('dist/main.js');

/** `node dist/main.js` as a child process on an ephemeral loopback port. */
export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT, parsed from the "Server listening at" log line. */
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Polls the output until `pattern` appears; throws with the output on timeout or exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code and signal once the process has gone. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** SIGKILLs every child this helper started that is still alive (for afterEach). */
export function killServerProcesses(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the server process and resolves once it is ready to serve. `script` replaces dist/main.js
 * with a test script that starts the same server differently (e.g. with a clock of its own).
 */
export async function startServerProcess(
  env: Record<string, string>,
  readyTimeoutMs = 15_000,
  script = MAIN,
  options: { fileSizeLimitKiB?: number } = {},
): Promise<ServerProcess> {
  // A file-size limit (RLIMIT_FSIZE, as bash's `ulimit -f` sets it) stands in for a full disk: a write
  // past it fails (Node ignores SIGXFSZ), as one past the end of a full file system would.
  const limit = options.fileSizeLimitKiB;
  const [command, args] = limit === undefined
    ? [process.execPath, [script]]
    : ['bash', ['-c', `ulimit -f ${Math.trunc(limit)} && exec "$0" "$1"`, process.execPath, script]];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const waitFor = async (pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`never saw ${pattern}; output:\n${output}`);
      }
      await pause(10);
    }
    return output;
  };

  const ready = await waitFor(/Switchyard is ready/, readyTimeoutMs);
  const port = /"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(ready)?.[1];
  if (port === undefined) throw new Error(`no listening port in output:\n${ready}`);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    waitFor,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, gotSignal] = await exited;
      running.delete(child);
      return { code, signal: gotSignal };
    },
  };
}

/** Calls the management API of a server at `baseUrl` with an admin key; parses JSON answers. */
export async function callApi<T = any>(
  baseUrl: string,
  key: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text so the failing assertion shows it.
  }
  return { status: res.status, body: parsed as T };
}
