import { afterAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";

import {
  ReelforgeClient,
  JobDocument,
  isReelforgeError,
  type Job,
  type JobProgress,
  type SocketState,
} from "../src/index.js";
import { solidPng } from "../../../test-support/png.js";
import { sineWav } from "../../../test-support/wav.js";
import { startProxy } from "../../../test-support/proxy.js";

const origin = inject("origin");
const token = inject("token");

function client(extra: Partial<ConstructorParameters<typeof ReelforgeClient>[0]> = {}): ReelforgeClient {
  return new ReelforgeClient({ url: `${origin}/graphql`, token, webSocketImpl: WebSocket, ...extra });
}

const PNG_1x1 = solidPng(16, 16, [200, 60, 40]);

async function waitForStatus(c: ReelforgeClient, id: string, statuses: string[], ms = 60_000): Promise<Job> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = await c.job(id);
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${job.status}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("ReelforgeClient against reelforge serve", () => {
  const clients: ReelforgeClient[] = [];
  afterAll(() => clients.forEach((c) => c.close()));

  it("answers typed data for queries and mutations", async () => {
    const c = client();
    const viewer = await c.viewer();
    expect(viewer.clientId).toBe("web-tests");
    const job = await c.createJob({ brief: "Cold brew coffee. Smooth and bold.", sceneCount: 2, targetDuration: 4 });
    expect(job.status).toMatch(/PENDING|GENERATING_STORYBOARD/);
    expect(job.sceneCount).toBe(2);
  });

  it("exposes errors as typed values keyed by extensions.code", async () => {
    const c = client();
    const missing = await c.request(JobDocument, { id: "00000000-0000-0000-0000-000000000000" });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.code).toBe("NOT_FOUND");

    const bad = await c.createJob({ brief: "x" }).catch((e: unknown) => e);
    expect(isReelforgeError(bad, "BAD_USER_INPUT")).toBe(true);

    const anonymous = await client({ token: null }).viewer().catch((e: unknown) => e);
    expect(isReelforgeError(anonymous, "UNAUTHENTICATED")).toBe(true);
  });

  it("refuses to render before approval with FORBIDDEN", async () => {
    const c = client();
    const job = await c.createJob({ brief: "Sneakers that glow at night.", sceneCount: 1, targetDuration: 3 });
    await waitForStatus(c, job.id, ["STORYBOARD_COMPLETE"]);
    const error = await c.renderVideo(job.id).catch((e: unknown) => e);
    expect(isReelforgeError(error)).toBe(true);
    expect(isReelforgeError(error) && error.code).toBe("FORBIDDEN");
  });

  it("uploads a file with the multipart spec and the preflight header", async () => {
    const c = client();
    const seen: number[] = [];
    const asset = await c.upload(new File([Buffer.from(PNG_1x1)], "dot.png", { type: "image/png" }), {
      onProgress: (sent) => seen.push(sent),
    });
    expect(asset.contentType).toBe("image/png");
    expect(asset.width).toBe(16);
    expect(seen.at(-1)).toBe(PNG_1x1.byteLength);

    // Without the preflight header the service refuses it (CSRF guard): the client always sends it.
    const form = new FormData();
    form.append("operations", JSON.stringify({ query: "mutation($f: Upload!){uploadAsset(file:$f){id}}", variables: { f: null } }));
    form.append("map", JSON.stringify({ "0": ["variables.f"] }));
    form.append("0", new File([Buffer.from(PNG_1x1)], "dot.png", { type: "image/png" }));
    const raw = await fetch(`${origin}/graphql`, { method: "POST", body: form, headers: { Authorization: `Bearer ${token}` } });
    expect(raw.status).toBeGreaterThanOrEqual(400);
  });

  it("lists the provider's voices, those of one language when asked", async () => {
    const c = client();
    const all = await c.voices();
    expect(all.length).toBeGreaterThan(1);
    expect(all.every((v) => v.id && v.name && v.language && v.provider)).toBe(true);
    const french = await c.voices("fr");
    expect(french.length).toBeGreaterThan(0);
    expect(french.length).toBeLessThan(all.length);
    expect(french.every((v) => v.language === "*" || v.language.split("-")[0] === "fr")).toBe(true);
  });

  it("creates jobs with the voice, language, captions and music asked for, each scene with its narration", async () => {
    const c = client();
    const voice = (await c.voices("fr"))[0]!;
    const spoken = await c.createJob({
      brief: "Un café glacé. Doux et intense. Essayez-le.",
      sceneCount: 2,
      targetDuration: 6,
      voice: voice.id,
      language: "fr",
      captions: "SENTENCE",
      music: "CALM",
    });
    expect(spoken).toMatchObject({ voice: voice.id, language: "fr", captions: "SENTENCE", music: "CALM", musicAssetId: null });
    const planned = await waitForStatus(c, spoken.id, ["STORYBOARD_COMPLETE"]);
    expect(planned.scenes).toHaveLength(2);
    expect(planned.scenes.every((s) => s.narration.trim().length > 0)).toBe(true);

    // Nothing chosen: the service's defaults (a voice for the language, WORD captions, a bed).
    const defaults = await c.createJob({ brief: "Trail shoes. Grip on every rock.", sceneCount: 1, targetDuration: 3 });
    expect(defaults.voice).toBeTruthy();
    expect(defaults).toMatchObject({ captions: "WORD", music: "UPBEAT" });

    // Everything off: a silent job without captions or music.
    const silent = await c.createJob({
      brief: "Trail shoes. Grip on every rock.",
      sceneCount: 1,
      targetDuration: 3,
      voice: null,
      captions: "NONE",
      music: "NONE",
    });
    expect(silent).toMatchObject({ voice: null, captions: "NONE", music: "NONE" });

    const unknown = await c.createJob({ brief: "Trail shoes.", voice: "no-such-voice" }).catch((e: unknown) => e);
    expect(isReelforgeError(unknown, "BAD_USER_INPUT")).toBe(true);
  });

  it("takes an uploaded audio track as the music bed, and refuses a picture as one", async () => {
    const c = client();
    const track = await c.upload(new File([Buffer.from(sineWav(2))], "bed.wav", { type: "audio/wav" }));
    expect(track.contentType).toMatch(/^audio\//);
    expect(track.durationSeconds).toBeCloseTo(2, 0);
    const job = await c.createJob({ brief: "Headphones. Just music.", sceneCount: 1, targetDuration: 3, musicAssetId: track.id });
    expect(job.musicAssetId).toBe(track.id);

    const picture = await c.upload(new File([Buffer.from(PNG_1x1)], "dot.png", { type: "image/png" }));
    const refused = await c
      .createJob({ brief: "Headphones. Just music.", musicAssetId: picture.id })
      .catch((e: unknown) => e);
    expect(isReelforgeError(refused, "BAD_USER_INPUT")).toBe(true);
  });

  it("follows jobProgress and re-subscribes after the socket drops mid-render", async () => {
    const proxy = await startProxy(Number(new URL(origin).port));
    const states: SocketState[] = [];
    const c = client({
      wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`,
      onSocketState: (s) => states.push(s),
    });
    clients.push(c);
    try {
      const created = await c.createJob({ brief: "A bicycle for the city. Light, fast, yours.", sceneCount: 3, targetDuration: 6 });
      await waitForStatus(c, created.id, ["STORYBOARD_COMPLETE"]);
      await c.approveStoryboard(created.id);

      const updates: JobProgress[] = [];
      let dropped = false;
      const done = new Promise<void>((resolve, reject) => {
        c.jobProgress(created.id, {
          next: (u) => {
            updates.push(u);
            if (!dropped && (u.status === "RENDERING" || u.status === "STITCHING")) {
              dropped = true;
              proxy.dropAll();
            }
          },
          error: reject,
          complete: resolve,
        });
      });
      await c.renderVideo(created.id);
      await done;
      expect(dropped).toBe(true);
      expect(proxy.connections()).toBeGreaterThanOrEqual(2);
      expect(states).toContain("reconnecting");
      const last = updates.at(-1)!;
      expect(last.status, last.job.errorMessage ?? "").toBe("COMPLETED");
      expect(last.job.video?.durationSeconds).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
