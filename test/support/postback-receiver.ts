import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export type Reply = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

export interface Receiver {
  /** e.g. "http://127.0.0.1:41234" */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaces how the next requests are answered (200 "ok" by default). */
  reply: Reply;
  /** Resolves when the receiver has seen `count` requests in total. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every request it receives. */
export async function startReceiver(reply: Reply = (_req, res) => res.end('ok')): Promise<Receiver> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const receiver = {
    origin: '',
    port: 0,
    requests: [] as ReceivedRequest[],
    reply,
    waitForRequests(count: number) {
      if (receiver.requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ count, resolve }));
    },
    close: async (): Promise<void> => undefined,
  };
  const server = http.createServer((req, res) => {
    const index = receiver.requests.length;
    receiver.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    for (const waiter of waiters.filter((w) => receiver.requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    receiver.reply(req, res, index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.port = port;
  receiver.origin = `http://127.0.0.1:${port}`;
  receiver.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** Answers with `status` (and a Location header for redirects). */
export const answer = (status: number, location?: string): Reply => (_req, res) => {
  res.writeHead(status, location ? { location } : {});
  res.end();
};
