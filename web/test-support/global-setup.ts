import type { TestProject } from "vitest/node";

import { startServer } from "./server.js";

declare module "vitest" {
  export interface ProvidedContext {
    origin: string;
    port: number;
    token: string;
    otherToken: string;
  }
}

// One real `reelforge serve` for the whole run; each test file works as its own client.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer();
  project.provide("origin", server.origin);
  project.provide("port", server.port);
  project.provide("token", server.token("web-tests", "tester"));
  project.provide("otherToken", server.token("web-tests-other", "someone"));
  return async () => {
    await server.stop();
  };
}
