/** A TCP proxy whose connections a test can cut, to drop a websocket mid-render. */
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

export interface DroppableProxy {
  port: number;
  connections: () => number;
  dropAll: () => void;
  close: () => Promise<void>;
}

export async function startProxy(targetPort: number): Promise<DroppableProxy> {
  const open = new Set<Socket>();
  let total = 0;
  const server = createServer((client) => {
    total += 1;
    const upstream = connect(targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => total,
    dropAll: () => {
      for (const s of open) s.destroy();
      open.clear();
    },
    close: () =>
      new Promise((ok) => {
        for (const s of open) s.destroy();
        server.close(() => ok());
      }),
  };
}
