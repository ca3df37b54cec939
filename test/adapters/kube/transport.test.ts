/** The connection under the client: closing it lets go of everything, a handshake in progress included. */
import { createServer, type Socket } from 'node:net';
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { clusterConnection } from '../../../lambda/adapters/kube/transport.js';

describe('clusterConnection', () => {
  it('closes a TLS handshake that never finishes, and fails the request waiting on it', async () => {
    // A server that accepts TCP and then says nothing: the TLS handshake hangs.
    const accepted: Socket[] = [];
    const silent = createServer((socket) => {
      accepted.push(socket);
      socket.resume(); // read (and drop) what comes, so the end of the connection is seen
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const connection = clusterConnection({
        base: new URL(`https://127.0.0.1:${port}`),
        secureContext: createSecureContext({}),
        http1Agent: () => new Agent(),
      });
      const pending = connection.get('/api', {}, new AbortController().signal).catch((e: unknown) => e);
      await expect.poll(() => accepted.length).toBe(1);
      const closed = new Promise((resolve) => accepted[0]!.once('close', resolve));
      connection.close();
      expect(((await pending) as Error).name).toBe('AbortError');
      await closed; // the server saw the connection go: nothing is left open
      expect(connection.protocol()).toBeUndefined();
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
