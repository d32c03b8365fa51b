import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    teardownTimeout: 20_000,
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/client/test/**/*.test.{ts,tsx}"],
          globalSetup: ["test-support/global-setup.ts"],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          // One server, shared: files run one after another (2-core CI).
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["studio/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
