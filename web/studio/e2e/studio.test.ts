/**
 * The Studio end to end in headless Chromium against a real `reelforge serve` (preview
 * provider): a brand kit with a dropped logo is saved → brief for TikTok (the platform sets the
 * ratio and limits the duration) with that kit, a call to action, headlines, a chosen voice,
 * captions and an uploaded music track → storyboard with each scene's headline and narration →
 * refine one scene's still and line → approve → render → the 9:16 video plays, with its caption
 * files and measured loudness → a TikTok export with its platform checks, and a GIF export
 * downloads. No console errors; no request leaves 127.0.0.1. Each step's screenshot goes to
 * docs/screenshots/studio/ (the README shows two of them).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startServer, type RunningServer } from "../../test-support/server";
import { solidPng } from "../../test-support/png";
import { sineWav } from "../../test-support/wav";
import { launch, watchedPage } from "./browser";

const SHOTS = resolve(import.meta.dirname, "../../../docs/screenshots/studio");

describe("Reelforge Studio in Chromium", () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [server, browser] = await Promise.all([startServer(), launch()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The job as the API has it (what the Studio sent, not what it shows). */
  async function apiJob(token: string, id: string) {
    const response = await fetch(`${server.origin}/graphql`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query:
          "query($id: ID!) { job(id: $id) { voice language captions music musicAssetId platform aspectRatio targetDuration brandKitId callToAction headlines scenes { narration headline } } }",
        variables: { id },
      }),
    });
    const body = (await response.json()) as {
      data: {
        job: {
          voice: string | null;
          language: string;
          captions: string;
          music: string;
          musicAssetId: string | null;
          platform: string | null;
          aspectRatio: string;
          targetDuration: number;
          brandKitId: string | null;
          callToAction: string | null;
          headlines: boolean;
          scenes: { narration: string; headline: string | null }[];
        };
      };
    };
    return body.data.job;
  }

  it("goes brand kit → brief (TikTok, kit, CTA, voice, captions, music) → storyboard → refine → approve → render → play → platform export and GIF download", async () => {
    const { page, external, consoleErrors } = await watchedPage(browser);
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    const token = server.token("studio-e2e", "marketer");

    await page.goto(`${server.origin}/`);
    await expect(page.getByText("reelforge serve").first().isVisible()).resolves.toBe(true);
    await page.getByTestId("token-input").fill(token);
    await shot("01-token");
    await page.getByTestId("token-save").click();

    // A brand kit: name, colours, a call to action and a logo dropped on its own drop zone.
    await page.getByTestId("brand-kit-name").fill("Cold brew co.");
    await page.getByTestId("brand-kit-primary").fill("#003366");
    await page.getByTestId("brand-kit-secondary").fill("#ffcc00");
    await page.getByTestId("brand-kit-cta").fill("Order today");
    await page.getByTestId("brand-kit-corner").selectOption("TOP_LEFT");
    const logo = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], "logo.png", { type: "image/png" }));
      return transfer;
    }, Array.from(solidPng(160, 80, [255, 0, 255])));
    await page.getByTestId("brand-kit-logo-drop").dispatchEvent("drop", { dataTransfer: logo });
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="brand-kit-logo-preview"]');
      return !!img && img.complete && img.naturalWidth === 160;
    });
    await page.getByTestId("brand-kit-save").click();
    const savedKit = page.getByTestId("brand-kit").filter({ hasText: "Cold brew co." });
    await savedKit.waitFor();
    const kitId = (await savedKit.getAttribute("data-kit-id"))!;
    expect(await savedKit.textContent()).toContain("#003366 / #ffcc00");
    // The kit just saved is the brief's kit; the editor is empty again.
    await page.waitForFunction((id) => document.querySelector<HTMLSelectElement>('[data-testid="brand-kit-select"]')?.value === id, kitId);
    expect(await page.getByTestId("brand-kit-name").inputValue()).toBe("");

    // The platform, from the platforms query: it sets the ratio and limits the duration.
    await page.waitForFunction(() => (document.querySelector<HTMLSelectElement>('[data-testid="platform-select"]')?.options.length ?? 0) > 5);
    const tiktokOption = await page.getByTestId("platform-select").locator('option[value="TIKTOK"]').textContent();
    expect(tiktokOption).toContain("9:16, 5 s–1 min");
    await page.getByTestId("platform-select").selectOption("TIKTOK");
    expect(await page.getByTestId("aspect-input").inputValue()).toBe("PORTRAIT_9_16");
    expect(await page.getByTestId("aspect-input").locator("option:enabled").count()).toBe(1);
    expect(await page.getByTestId("duration-input").getAttribute("min")).toBe("5");
    expect(await page.getByTestId("duration-input").getAttribute("max")).toBe("60");
    expect(await page.getByTestId("platform-hint").textContent()).toContain("at least 540×960");
    // A call to action over the kit's, and a headline per scene.
    expect(await page.getByTestId("cta-input").getAttribute("placeholder")).toBe("Order today");
    await page.getByTestId("cta-input").fill("Order by noon");
    await page.getByTestId("headlines-input").check();
    // Labelled controls the keyboard reaches in order.
    await page.getByLabel("Brand kit", { exact: true }).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("cta-input");

    // Brief, with one product shot dropped on the drop zone (a real drop event with a file).
    await page.getByTestId("brief-input").fill("Cold brew coffee. Smooth and bold. Try it today.");
    await page.getByTestId("scene-count-input").fill("3");
    const dropped = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], "product.png", { type: "image/png" }));
      return transfer;
    }, Array.from(solidPng(320, 180, [30, 90, 160])));
    await page.getByTestId("dropzone").dispatchEvent("dragover", { dataTransfer: dropped });
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: dropped });
    await page.getByRole("list", { name: "Uploads" }).getByText("ready", { exact: true }).waitFor();

    // Voice-over, captions and music: a named voice from the voices query, sentence captions,
    // and a music track dropped on the same zone (it becomes the music bed).
    const voiceSelect = page.getByTestId("voice-select");
    await page.waitForFunction(() => (document.querySelector<HTMLSelectElement>('[data-testid="voice-select"]')?.options.length ?? 0) > 2);
    const optionValues = await voiceSelect.locator("option").evaluateAll((els) => els.map((el) => (el as HTMLOptionElement).value));
    expect(optionValues.slice(0, 2)).toEqual(["default", "none"]);
    const voice = optionValues.find((v) => v.endsWith(":en-GB")) ?? optionValues[2]!;
    await voiceSelect.selectOption(voice);
    await page.getByTestId("captions-select").selectOption("SENTENCE");
    const track = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], "bed.wav", { type: "audio/wav" }));
      return transfer;
    }, Array.from(sineWav(3, 220)));
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: track });
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid="music-select"]')?.value.startsWith("track:"));
    const trackId = (await page.getByTestId("music-select").inputValue()).slice("track:".length);
    // The music select is a labelled control the keyboard reaches.
    await page.getByLabel("Voice", { exact: true }).focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("music-select");
    await shot("02-brief");
    await page.getByTestId("create-job").click();

    // The choices reach the job: shown on the page and stored by the API.
    await page.getByTestId("job-head").waitFor();
    expect(await page.getByTestId("job-voice").getAttribute("data-voice")).toBe(voice);
    expect(await page.getByTestId("job-captions").textContent()).toBe("sentence");
    const jobId = (await page.getByTestId("job-head").getAttribute("data-job-id"))!;
    expect(await page.getByTestId("job-platform").getAttribute("data-platform")).toBe("TIKTOK");
    expect(await page.getByTestId("job-brand-kit").textContent()).toBe("Cold brew co.");
    expect(await page.getByTestId("job-cta").textContent()).toContain("Order by noon");
    expect(await apiJob(token, jobId)).toMatchObject({
      voice,
      captions: "SENTENCE",
      musicAssetId: trackId,
      platform: "TIKTOK",
      aspectRatio: "PORTRAIT_9_16",
      targetDuration: 9,
      brandKitId: kitId,
      callToAction: "Order by noon",
      headlines: true,
    });

    // Storyboard: three cards, each with its still loaded.
    const cards = page.getByTestId("scene-card");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="scene-card"] img').length === 3, undefined, { timeout: 90_000 });
    await page.getByTestId("approve").and(page.locator(":enabled")).waitFor({ timeout: 90_000 });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="scene-card"] img')).every((i) => i.complete && i.naturalWidth > 0),
    );
    expect(await cards.count()).toBe(3);
    const lines = await page.getByTestId("scene-narration").allTextContents();
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.replace("Narration:", "").trim().length > 0)).toBe(true);
    const headlines = (await page.getByTestId("scene-headline").allTextContents()).map((h) => h.replace("Headline:", "").trim());
    expect(headlines).toHaveLength(3);
    expect(headlines).toEqual((await apiJob(token, jobId)).scenes.map((s) => s.headline));
    await shot("03-storyboard");

    // Refine the second scene: a new still replaces the old one.
    const second = cards.nth(1);
    const oldSrc = await second.locator("img").getAttribute("src");
    await second.getByTestId("refine").click();
    await second.getByTestId("refine-prompt").fill("a glass of cold brew with ice, dark background, studio light");
    const line = "Slow steeped for twenty hours.";
    await second.getByTestId("refine-narration").fill(line);
    await second.getByTestId("refine-submit").click();
    await page.waitForFunction(
      (old) => {
        const img = document.querySelectorAll<HTMLImageElement>('[data-testid="scene-card"] img')[1];
        return !!img && img.getAttribute("src") !== old && img.complete && img.naturalWidth > 0;
      },
      oldSrc,
      { timeout: 90_000 },
    );
    await page.getByTestId("approve").and(page.locator(":enabled")).waitFor({ timeout: 90_000 });
    expect(await second.getByTestId("scene-narration").textContent()).toContain(line);
    expect((await apiJob(token, jobId)).scenes[1]?.narration).toBe(line);
    await shot("04-refined");

    // Approve, render, watch the progress bar move.
    await page.getByTestId("approve").click();
    await page.getByTestId("approve").and(page.locator(":disabled")).waitFor();
    await page.getByTestId("render").click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="progress"]')?.getAttribute("aria-valuenow")) > 0);
    await shot("05-rendering");

    // The video plays: enough data for the current frame, and the scenes' total duration.
    const video = page.getByTestId("result-video");
    await video.waitFor({ timeout: 180_000 });
    await page.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>('[data-testid="result-video"]')?.readyState ?? 0) >= 2,
      undefined,
      { timeout: 60_000 },
    );
    const played = await video.evaluate(async (el: HTMLVideoElement) => {
      el.muted = true;
      await el.play();
      await new Promise((r) => setTimeout(r, 800));
      el.pause();
      return { readyState: el.readyState, duration: el.duration, currentTime: el.currentTime, poster: el.poster, width: el.videoWidth, height: el.videoHeight };
    });
    // A scene is held as long as its spoken line needs: the durations are read once rendered.
    const durations = await cards.evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-duration"))));
    const expected = durations.reduce((a, b) => a + b, 0);
    expect(expected).toBeGreaterThan(0);
    expect(played.readyState).toBeGreaterThanOrEqual(2);
    // TikTok's 9:16 at 720p, above its 540×960 minimum.
    expect([played.width, played.height]).toEqual([720, 1280]);
    expect(Math.abs(played.duration - expected)).toBeLessThanOrEqual(0.5);
    expect(played.currentTime).toBeGreaterThan(0);
    expect(played.poster).toContain("/api/v2/assets/");
    expect(await page.getByTestId("progress").getAttribute("aria-valuenow")).toBe("100");

    // The caption files download, holding the edited line; the measured loudness is shown.
    // (The −14 ± 1 LUFS target itself is the Python suite's to check, on the file.)
    const loudness = page.getByTestId("loudness");
    const lufs = Number(await loudness.getAttribute("data-lufs"));
    const peak = Number(await loudness.getAttribute("data-true-peak"));
    expect(lufs).toBeLessThan(0);
    expect(peak).toBeLessThanOrEqual(-1);
    expect(await loudness.textContent()).toContain(`${lufs.toFixed(1).replace("-", "−")} LUFS`);
    for (const [testid, head] of [["captions-srt", /^1\r?\n\d\d:\d\d:\d\d,\d{3} --> /], ["captions-vtt", /^WEBVTT/]] as const) {
      const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
      const saved = join(tmpdir(), `reelforge-e2e-${process.pid}-${testid}`);
      await file.saveAs(saved);
      const text = readFileSync(saved, "utf8");
      expect(text).toMatch(head);
      expect(text.replace(/\s+/g, " ")).toContain("Slow steeped");
    }
    await shot("06-video");

    // A TikTok export: its file measured against TikTok's rules, each check shown.
    await page.getByTestId("export-platform-TIKTOK").click();
    const tiktokRow = page.locator('[data-testid="export-row"][data-platform="TIKTOK"][data-status="COMPLETED"]');
    await tiktokRow.waitFor({ timeout: 120_000 });
    const checks = tiktokRow.getByTestId("platform-check");
    await checks.first().waitFor();
    const shown = await checks.evaluateAll((els) =>
      els.map((el) => ({
        rule: el.getAttribute("data-rule")!,
        passed: el.getAttribute("data-passed"),
        actual: Number(el.getAttribute("data-actual")),
        limit: Number(el.getAttribute("data-limit")),
        text: el.textContent ?? "",
      })),
    );
    const rules = shown.map((c) => c.rule);
    for (const rule of ["max_bytes", "min_seconds", "max_seconds", "min_width", "min_height", "min_video_kbps"]) expect(rules).toContain(rule);
    expect(shown.filter((c) => c.passed !== "true")).toEqual([]);
    const kbps = shown.find((c) => c.rule === "min_video_kbps")!;
    expect(kbps.limit).toBe(516);
    expect(kbps.actual).toBeGreaterThanOrEqual(516);
    expect(kbps.text).toContain(`${Math.round(kbps.actual)} kbps ≥ 516 kbps`);
    expect(await checks.first().isVisible()).toBe(true);

    // GIF export, then its download.
    await page.getByTestId("export-gif").click();
    const link = page.getByTestId("download-gif");
    await link.waitFor({ timeout: 120_000 });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const path = join(tmpdir(), `reelforge-e2e-${process.pid}.gif`);
    await download.saveAs(path);
    expect(readFileSync(path).subarray(0, 6).toString("latin1")).toMatch(/^GIF8[79]a$/);
    await shot("07-exports");

    // A phone's width: the same page, one column.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot("08-phone");

    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  });

  it("shows a typed error with its code", async () => {
    const { page, consoleErrors, external } = await watchedPage(browser);
    await page.goto(`${server.origin}/`);
    await page.getByTestId("token-input").fill("not-a-token");
    await page.getByTestId("token-save").click();
    const error = page.getByTestId("error").first();
    await error.waitFor();
    expect(await error.textContent()).toContain("UNAUTHENTICATED");
    // The 401 answer is logged by Chromium as a failed resource; nothing else may be.
    expect(consoleErrors.filter((e) => !e.includes("401"))).toEqual([]);
    expect(external).toEqual([]);
  });

  it("serves GraphiQL offline: renders, runs a query with a token header, keeps headers out of localStorage", async () => {
    const { page, consoleErrors, external } = await watchedPage(browser);
    const token = server.token("graphiql-e2e", "dev");
    const response = await page.goto(`${server.origin}/graphql`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await page.locator(".graphiql-container").waitFor();
    await page.locator(".graphiql-query-editor .CodeMirror").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText("query Me { viewer { clientId userId } }");
    await page.getByRole("button", { name: /headers/i }).click();
    await page.locator(".graphiql-editor-tool .CodeMirror").last().click();
    await page.keyboard.insertText(`{"Authorization": "Bearer ${token}"}`);
    await page.locator(".graphiql-execute-button").click();
    await page.locator(".graphiql-response").getByText("graphiql-e2e").waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, "09-graphiql.png") });
    const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage }));
    expect(stored).not.toContain(token);
    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  });
});
