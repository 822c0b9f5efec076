import http from 'node:http';

/** The baseline of the redirect benchmark: the least any server can do for a click. */
const port = Number(process.argv[2] ?? 0);
const server = http.createServer((_req, res) => {
  res.writeHead(302, { location: 'https://example.com/landing', 'cache-control': 'no-store' });
  res.end();
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
