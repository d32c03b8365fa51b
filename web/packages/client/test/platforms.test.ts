import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { describe, expect, inject, it } from "vitest";
import WebSocket from "ws";

import { ReelforgeClient, isReelforgeError, type Job } from "../src/index.js";
import { solidPng } from "../../../test-support/png.js";

const origin = inject("origin");
// A client of its own: the brand kits listed here are this file's.
const token = inject("token");
const otherToken = inject("otherToken");
const FONT = resolve(import.meta.dirname, "../../../../reelforge/media/fonts/DejaVuSans-Bold.ttf");

function client(t = token): ReelforgeClient {
  return new ReelforgeClient({ url: `${origin}/graphql`, token: t, webSocketImpl: WebSocket });
}

async function waitForStatus(c: ReelforgeClient, id: string, statuses: string[], ms = 60_000): Promise<Job> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = await c.job(id);
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck in ${job.status}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("platforms and brand kits through the client", () => {
  it("lists every platform with its rules and safe zone", async () => {
    const platforms = await client().platforms();
    expect(platforms.map((p) => p.platform).sort()).toEqual(
      ["FACEBOOK_FEED", "INSTAGRAM_FEED", "INSTAGRAM_REELS", "INSTAGRAM_STORIES", "LINKEDIN", "TIKTOK", "YOUTUBE", "YOUTUBE_BUMPER", "YOUTUBE_SHORTS"],
    );
    const tiktok = platforms.find((p) => p.platform === "TIKTOK")!;
    expect(tiktok).toMatchObject({ aspectRatio: "PORTRAIT_9_16", minWidth: 540, minHeight: 960, minSeconds: 5, maxSeconds: 60 });
    expect(tiktok.defaultSeconds).toBeGreaterThanOrEqual(5);
    expect(tiktok.safeZone.bottom).toBeGreaterThan(0);
    expect(tiktok.sources.length).toBeGreaterThan(0);
  });

  it("saves a brand kit with a logo and a font, lists it, keeps it from other clients, deletes it", async () => {
    const c = client();
    const logo = await c.upload(new File([Buffer.from(solidPng(64, 32, [255, 0, 255]))], "logo.png", { type: "image/png" }));
    const font = await c.upload(new File([readFileSync(FONT)], "brand.ttf", { type: "font/ttf" }));
    expect(font.contentType).toBe("font/ttf");
    const kit = await c.saveBrandKit({
      name: "Cold brew co.",
      logoAssetId: logo.id,
      fontAssetId: font.id,
      primaryColor: "#003366",
      secondaryColor: "#FFCC00",
      callToAction: "Order today",
    });
    expect(kit).toMatchObject({ name: "Cold brew co.", primaryColor: "#003366", secondaryColor: "#ffcc00", callToAction: "Order today" });
    expect(kit.logo?.id).toBe(logo.id);
    expect(kit.font?.id).toBe(font.id);
    expect((await c.brandKits()).map((k) => k.id)).toContain(kit.id);

    // Another client sees none of it and cannot delete it.
    const other = client(otherToken);
    expect((await other.brandKits()).map((k) => k.id)).not.toContain(kit.id);
    expect(isReelforgeError(await other.deleteBrandKit(kit.id).catch((e: unknown) => e), "NOT_FOUND")).toBe(true);

    // Colours are #rrggbb; a font is no logo.
    const navy = await c.saveBrandKit({ name: "Navy", primaryColor: "navy" }).catch((e: unknown) => e);
    expect(isReelforgeError(navy, "BAD_USER_INPUT")).toBe(true);
    const fontAsLogo = await c.saveBrandKit({ name: "Oops", logoAssetId: font.id }).catch((e: unknown) => e);
    expect(isReelforgeError(fontAsLogo, "BAD_USER_INPUT")).toBe(true);

    expect(await c.deleteBrandKit(kit.id)).toBe(kit.id);
    expect((await c.brandKits()).map((k) => k.id)).not.toContain(kit.id);
  });

  it("sends platform, brand kit, call to action and headlines to the job; the platform fills ratio and duration", async () => {
    const c = client();
    const [platforms, kit] = await Promise.all([
      c.platforms(),
      c.saveBrandKit({ name: "Bakery", primaryColor: "#7a3b00", secondaryColor: "#ffffff", callToAction: "Visit us" }),
    ]);
    const tiktok = platforms.find((p) => p.platform === "TIKTOK")!;
    const job = await c.createJob({
      brief: "Fresh bread every morning. Warm and golden. Visit us.",
      sceneCount: 2,
      platform: "TIKTOK",
      brandKitId: kit.id,
      callToAction: "Order by 9",
      headlines: true,
    });
    expect(job).toMatchObject({
      platform: "TIKTOK",
      aspectRatio: tiktok.aspectRatio,
      targetDuration: tiktok.defaultSeconds,
      brandKitId: kit.id,
      callToAction: "Order by 9",
      headlines: true,
    });
    const planned = await waitForStatus(c, job.id, ["STORYBOARD_COMPLETE"]);
    expect(planned.scenes).toHaveLength(2);
    expect(planned.scenes.every((s) => (s.headline ?? "").trim().length > 0)).toBe(true);

    // Without an override the kit's line is the end card's; "" means no end card.
    const kits = await c.createJob({ brief: "Fresh bread every morning.", sceneCount: 1, platform: "INSTAGRAM_REELS", brandKitId: kit.id });
    expect(kits).toMatchObject({ callToAction: "Visit us", aspectRatio: "PORTRAIT_9_16", headlines: false });
    const none = await c.createJob({ brief: "Fresh bread every morning.", sceneCount: 1, brandKitId: kit.id, callToAction: "" });
    expect(none.callToAction ?? "").toBe("");
  });

  it("refuses a TIKTOK job of 3 s as BAD_USER_INPUT on targetDuration", async () => {
    const error = await client()
      .createJob({ brief: "Sneakers that glow at night.", platform: "TIKTOK", targetDuration: 3 })
      .catch((e: unknown) => e);
    expect(isReelforgeError(error, "BAD_USER_INPUT")).toBe(true);
    expect(isReelforgeError(error) && error.extensions["field"]).toBe("targetDuration");
    expect(isReelforgeError(error) && error.message).toMatch(/5.60/);
  });
});
