/**
 * Starts a real `reelforge serve` for the web tests: the preview provider, a free port, its
 * own storage folder (SQLite + embedded Valkey inside it), and tokens minted by the CLI.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");

export function reelforgeBin(): string {
  if (process.env["REELFORGE_BIN"]) return process.env["REELFORGE_BIN"];
  const venv = join(REPO, ".venv", "bin", "reelforge");
  return existsSync(venv) ? venv : "reelforge";
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => ok(port));
    });
  });
}

export interface RunningServer {
  origin: string;
  port: number;
  storage: string;
  env: NodeJS.ProcessEnv;
  log: () => string;
  token: (client?: string, user?: string) => string;
  stop: () => Promise<void>;
}

export async function startServer(): Promise<RunningServer> {
  const port = await freePort();
  const storage = mkdtempSync(join(tmpdir(), "reelforge-web-"));
  // Isolated from whatever the machine has: SQLite and embedded Valkey in `storage`, preview provider.
  const { DATABASE_URL: _db, REDIS_URL: _redis, REPLICATE_API_TOKEN: _replicate, STORAGE_URL: _store, ...inherited } =
    process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    VIDEO_STORAGE_PATH: storage,
    LOG_FORMAT: "console",
    ENVIRONMENT: "development",
  };
  const bin = reelforgeBin();
  let output = "";
  const child: ChildProcess = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`reelforge serve exited:\n${output}`);
    try {
      const r = await fetch(`${origin}/healthz`);
      if (r.ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`reelforge serve did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    origin,
    port,
    storage,
    env,
    log: () => output,
    token: (client = "web-tests", user = "tester") =>
      execFileSync(bin, ["token", "--client", client, "--user", user], { env }).toString().trim(),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(storage, { recursive: true, force: true });
    },
  };
}
