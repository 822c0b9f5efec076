import net from 'node:net';

/**
 * Sends the bytes in one write on one connection to the server at `url` and resolves with everything
 * it wrote before the connection closed. For requests fetch would never send: malformed, pipelined.
 */
export function sendRaw(url: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
  });
}
