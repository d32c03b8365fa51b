// @vitest-environment jsdom
import { act, renderHook, waitFor } from "@testing-library/react";
import { StrictMode, type ReactNode } from "react";
import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";

import { ReelforgeClient, type ReelforgeClientOptions } from "../src/index.js";
import { useVideoGeneration } from "../src/react.js";
import { freePort } from "../../../test-support/server.js";

const origin = inject("origin");
const token = inject("otherToken");

/** A client that counts its live jobProgress subscriptions. */
function countingClient(extra: Partial<ReelforgeClientOptions> = {}) {
  const client = new ReelforgeClient({ url: `${origin}/graphql`, token, webSocketImpl: WebSocket, ...extra });
  const counts = { active: 0, max: 0, started: 0 };
  const original = client.jobProgress.bind(client);
  client.jobProgress = (jobId, sink) => {
    counts.active += 1;
    counts.started += 1;
    counts.max = Math.max(counts.max, counts.active);
    let live = true;
    const stop = original(jobId, {
      ...sink,
      complete: () => {
        if (live) counts.active -= 1;
        live = false;
        sink.complete?.();
      },
    });
    return () => {
      if (live) counts.active -= 1;
      live = false;
      stop();
    };
  };
  return { client, counts };
}

const strict = ({ children }: { children: ReactNode }) => <StrictMode>{children}</StrictMode>;

describe("useVideoGeneration against reelforge serve", () => {
  const clients: ReelforgeClient[] = [];
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
  });

  it("runs brief → storyboard → approve → render → export live, once per job under StrictMode", async () => {
    const { client, counts } = countingClient();
    clients.push(client);
    const { result } = renderHook(() => useVideoGeneration({ client }), { wrapper: strict });

    await act(async () => {
      await result.current.create({ brief: "Fresh bread every morning. Warm, golden, yours.", sceneCount: 2, targetDuration: 4 });
    });
    expect(result.current.job).not.toBeNull();
    await waitFor(() => expect(result.current.status).toBe("STORYBOARD_COMPLETE"), { timeout: 60_000 });
    expect(result.current.live).toBe("socket");
    expect(result.current.scenes).toHaveLength(2);
    expect(result.current.scenes.every((s) => s.image?.url)).toBe(true);
    expect(result.current.cost.estimated).not.toBeNull();

    // The error path: render before approval is FORBIDDEN, surfaced in `error`.
    await act(async () => {
      await result.current.render();
    });
    expect(result.current.error?.code).toBe("FORBIDDEN");

    const before = result.current.job!.storyboardVersion;
    const stillBefore = result.current.scenes[1]!.image!.id;
    await act(async () => {
      await result.current.refineScene(1, { imagePrompt: "a golden loaf on a wooden board, morning light" });
    });
    expect(result.current.error).toBeNull();
    expect(result.current.job?.storyboardVersion).toBe(before + 1);
    await waitFor(
      () => {
        expect(result.current.status).toBe("STORYBOARD_COMPLETE");
        expect(result.current.scenes[1]?.image?.id).not.toBe(stillBefore);
      },
      { timeout: 60_000 },
    );

    await act(async () => {
      await result.current.approve();
    });
    expect(result.current.job?.approved).toBe(true);
    await act(async () => {
      await result.current.render();
    });
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"), { timeout: 120_000 });
    expect(result.current.progress).toBe(100);
    expect(result.current.job?.video?.url).toBeTruthy();
    expect(result.current.cost.actual).toBeGreaterThanOrEqual(0);

    await act(async () => {
      await result.current.exportVideo([
        { aspectRatio: "SQUARE_1_1", resolution: "R480P", container: "GIF" },
        { platform: "LINKEDIN", resolution: "R480P", container: "MP4" },
      ]);
    });
    await waitFor(() => expect(result.current.exports.map((e) => e.status)).toEqual(["COMPLETED", "COMPLETED"]), { timeout: 90_000 });
    const gif = result.current.exports.find((e) => e.container === "GIF")!;
    expect(gif.asset?.contentType).toBe("image/gif");
    expect(gif.platformChecks ?? []).toEqual([]);
    // A platform export takes the platform's ratio and is measured against its rules.
    const linkedin = result.current.exports.find((e) => e.platform === "LINKEDIN")!;
    expect(linkedin.aspectRatio).toBe("PORTRAIT_4_5");
    const fps = linkedin.platformChecks?.find((c) => c.rule === "max_fps");
    expect(fps).toMatchObject({ passed: true, limit: 30 });
    expect(fps!.actual).toBeLessThan(30);

    // StrictMode mounts effects twice: never two subscriptions at once, none left running.
    expect(counts.max).toBe(1);
    expect(counts.active).toBe(0);
  });

  it("creates with a voice, captions and music, re-records one scene's narration, and ends with caption files and the loudness", async () => {
    const { client } = countingClient();
    clients.push(client);
    const { result } = renderHook(() => useVideoGeneration({ client }), { wrapper: strict });

    let voices: Awaited<ReturnType<typeof result.current.voices>> = null;
    await act(async () => {
      voices = await result.current.voices("en");
    });
    const voice = voices!.find((v) => v.language !== "*") ?? voices![0]!;
    await act(async () => {
      await result.current.create({
        brief: "Fresh bread every morning. Warm, golden, yours.",
        sceneCount: 2,
        targetDuration: 5,
        voice: voice.id,
        captions: "SENTENCE",
        music: "CALM",
      });
    });
    expect(result.current.job).toMatchObject({ voice: voice.id, captions: "SENTENCE", music: "CALM" });
    await waitFor(() => expect(result.current.status).toBe("STORYBOARD_COMPLETE"), { timeout: 60_000 });
    expect(result.current.scenes.every((s) => s.narration.length > 0)).toBe(true);

    // A new line for the first scene: its narration changes, its still does not.
    const line = "Golden crust, soft inside, baked at dawn.";
    const still = result.current.scenes[0]!.image!.id;
    await act(async () => {
      await result.current.refineScene(0, { narration: line });
    });
    expect(result.current.error).toBeNull();
    expect(result.current.scenes[0]?.narration).toBe(line);
    await waitFor(() => expect(result.current.status).toBe("STORYBOARD_COMPLETE"), { timeout: 60_000 });
    expect(result.current.scenes[0]?.image?.id).toBe(still);

    await act(async () => {
      await result.current.approve();
    });
    await act(async () => {
      await result.current.render();
    });
    await waitFor(() => expect(result.current.status).toBe("COMPLETED"), { timeout: 120_000 });
    const job = result.current.job!;

    // The measured loudness of the final mix reaches the client (−14 LUFS is the target; how
    // close the mix gets is the Python suite's to check, on the file), true peak ≤ −1 dBTP.
    expect(job.video?.loudnessLufs).toBeGreaterThan(-17);
    expect(job.video?.loudnessLufs).toBeLessThan(-11);
    expect(job.video?.truePeakDb).toBeLessThanOrEqual(-1);

    // The caption files beside the video, holding the new line.
    const srt = await (await fetch(client.resolveUrl(job.captionsSrt!.url))).text();
    const vtt = await (await fetch(client.resolveUrl(job.captionsVtt!.url))).text();
    expect(srt).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> /);
    expect(vtt.startsWith("WEBVTT")).toBe(true);
    for (const text of [srt, vtt]) expect(text.replace(/\s+/g, " ")).toContain("Golden crust");
  });

  it("surfaces a 3 s TIKTOK job as BAD_USER_INPUT in error, and saves, lists and deletes brand kits", async () => {
    const { client } = countingClient();
    clients.push(client);
    const { result } = renderHook(() => useVideoGeneration({ client }), { wrapper: strict });

    let platforms: Awaited<ReturnType<typeof result.current.platforms>> = null;
    await act(async () => {
      platforms = await result.current.platforms();
    });
    expect(platforms!.find((p) => p.platform === "TIKTOK")?.minSeconds).toBe(5);

    let created: Awaited<ReturnType<typeof result.current.create>> = null;
    await act(async () => {
      created = await result.current.create({ brief: "Sneakers that glow at night.", platform: "TIKTOK", targetDuration: 3 });
    });
    expect(created).toBeNull();
    expect(result.current.job).toBeNull();
    expect(result.current.error?.code).toBe("BAD_USER_INPUT");
    expect(result.current.error?.extensions["field"]).toBe("targetDuration");

    let kit: Awaited<ReturnType<typeof result.current.saveBrandKit>> = null;
    await act(async () => {
      kit = await result.current.saveBrandKit({ name: "Night runners", primaryColor: "#101010", secondaryColor: "#39ff14", callToAction: "Run tonight" });
    });
    expect(result.current.error).toBeNull();
    expect(kit).toMatchObject({ name: "Night runners", secondaryColor: "#39ff14", callToAction: "Run tonight" });
    let listed: Awaited<ReturnType<typeof result.current.brandKits>> = null;
    await act(async () => {
      listed = await result.current.brandKits();
    });
    expect(listed!.map((k) => k.id)).toContain(kit!.id);

    // A bad colour lands in `error`, naming the field.
    await act(async () => {
      await result.current.saveBrandKit({ name: "Bad", primaryColor: "green" });
    });
    expect(result.current.error?.code).toBe("BAD_USER_INPUT");
    expect(result.current.error?.extensions["field"]).toBe("primaryColor");

    await act(async () => {
      expect(await result.current.deleteBrandKit(kit!.id)).toBe(kit!.id);
      listed = await result.current.brandKits();
    });
    expect(listed!.map((k) => k.id)).not.toContain(kit!.id);
  });

  it("falls back to polling job(id) when websockets are unavailable", async () => {
    const closedPort = await freePort();
    const { client } = countingClient({ wsUrl: `ws://127.0.0.1:${closedPort}/graphql`, retryAttempts: 0 });
    clients.push(client);
    const { result } = renderHook(() => useVideoGeneration({ client, pollInterval: 300 }), { wrapper: strict });
    await act(async () => {
      await result.current.create({ brief: "Running shoes. Go further.", sceneCount: 1, targetDuration: 3 });
    });
    await waitFor(() => expect(result.current.live).toBe("polling"), { timeout: 20_000 });
    await waitFor(() => expect(result.current.status).toBe("STORYBOARD_COMPLETE"), { timeout: 60_000 });
    expect(result.current.error).toBeNull();
  });

  it("stops following and sets no state after unmount", async () => {
    const { client, counts } = countingClient();
    clients.push(client);
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const { result, unmount } = renderHook(() => useVideoGeneration({ client }), { wrapper: strict });
      await act(async () => {
        await result.current.create({ brief: "Headphones that disappear. Just music.", sceneCount: 1, targetDuration: 3 });
      });
      await waitFor(() => expect(counts.active).toBe(1));
      const pending = result.current.approve(); // answered after unmount
      unmount();
      await pending;
      expect(counts.active).toBe(0);
      await new Promise((r) => setTimeout(r, 1500));
      expect(errors).toEqual([]);
    } finally {
      console.error = original;
    }
  });
});
