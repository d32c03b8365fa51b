import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Debian's Chromium, headless, with nothing that phones home. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

export interface Watched {
  page: Page;
  context: BrowserContext;
  /** Requests to any host but 127.0.0.1 (each was blocked). */
  external: string[];
  /** Console errors and uncaught page errors. */
  consoleErrors: string[];
}

/** A page whose every non-local request is blocked and recorded, and whose console errors are kept. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Watched> {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  const external: string[] = [];
  const consoleErrors: string[] = [];
  await context.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    const local = url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:";
    if (local) await route.continue();
    else {
      external.push(url.toString());
      await route.abort("blockedbyclient");
    }
  });
  const page = await context.newPage();
  page.on("websocket", (ws) => {
    if (new URL(ws.url()).hostname !== "127.0.0.1") external.push(ws.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
  return { page, context, external, consoleErrors };
}
