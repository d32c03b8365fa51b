import { toReelforgeError, type AspectRatio, type BrandKit, type PlatformPreset, type ReelforgeClient } from "@reelforge/client";
import { useCallback, useEffect, useState } from "react";

export const ASPECT_LABELS: Record<AspectRatio, string> = {
  LANDSCAPE_16_9: "16:9",
  PORTRAIT_9_16: "9:16",
  SQUARE_1_1: "1:1",
  PORTRAIT_4_5: "4:5",
};

/** The seconds a job can last on a platform, within the service's own 2–120 s. */
export function durationRange(preset: PlatformPreset | undefined): { min: number; max: number } {
  return { min: Math.max(2, preset?.minSeconds ?? 2), max: Math.min(120, preset?.maxSeconds ?? 120) };
}

const seconds = (s: number) => (s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`);

/** "9:16, 5–60 s": what a platform option says about the platform. */
export function presetSummary(preset: PlatformPreset): string {
  const { min, max } = durationRange(preset);
  return `${ASPECT_LABELS[preset.aspectRatio]}, ${seconds(min)}–${seconds(max)}`;
}

/** Something loaded from the API once per client (a new token makes a new client). */
function useLoaded<T>(client: ReelforgeClient, enabled: boolean, load: (c: ReelforgeClient) => Promise<T[]>) {
  const [items, setItems] = useState<T[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    load(client).then(
      (list) => {
        if (!live) return;
        setItems(list);
        setProblem(null);
      },
      (err: unknown) => {
        if (live) setProblem(toReelforgeError(err).code);
      },
    );
    return () => {
      live = false;
    };
    // `load` is a module-level function.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, enabled, version]);
  const reload = useCallback(() => setVersion((n) => n + 1), []);
  return { items, problem, reload };
}

const loadPlatforms = (c: ReelforgeClient) => c.platforms();
const loadBrandKits = (c: ReelforgeClient) => c.brandKits();

/** The placements the service knows, with their rules. */
export function usePlatforms(client: ReelforgeClient, enabled: boolean) {
  const { items, problem } = useLoaded<PlatformPreset>(client, enabled, loadPlatforms);
  return { platforms: items, problem };
}

/** The client's brand kits; `reload` after a save or a delete. */
export function useBrandKits(client: ReelforgeClient, enabled: boolean) {
  const { items, problem, reload } = useLoaded<BrandKit>(client, enabled, loadBrandKits);
  return { kits: items, problem, reload };
}
