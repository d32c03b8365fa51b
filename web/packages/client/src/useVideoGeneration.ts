/**
 * useVideoGeneration: one ad-video job as React state, with the actions that move it along.
 * Follows `jobProgress` live over the websocket and falls back to polling `job(id)` when
 * websockets are unavailable. Safe under StrictMode (the effect's cleanup stops its
 * subscription, so a double-mounted effect never leaves two running) and on unmount (no
 * state is set once the component is gone).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import {
  isTerminal,
  type Asset,
  type BrandKit,
  type Export,
  type Job,
  type PlatformPreset,
  type ReelforgeClient,
  type Scene,
  type Voice,
} from "./client.js";
import { ReelforgeError, toReelforgeError } from "./errors.js";
import {
  JobDocument,
  type BrandKitInput,
  type CaptionStyle,
  type CreateJobInput,
  type ExportTargetInput,
  type JobStatus,
  type MusicMood,
  type Platform,
  type RefineSceneInput,
} from "./generated/graphql.js";

/**
 * What `create` takes: the brief and its settings. Anything left out gets the service's
 * default: a voice-over in the brief's language, WORD captions and an UPBEAT music bed; with
 * a platform, its aspect ratio and default duration.
 */
export interface CreateJobOptions extends CreateJobInput {
  /**
   * Where the ad runs (`platforms()` lists the rules): the job must keep them (a TIKTOK job of
   * 3 s is BAD_USER_INPUT on targetDuration), and its aspect ratio and duration default to it.
   */
  platform?: Platform | null;
  /** A brand kit from `brandKits()`: its logo, colours, font and call to action. */
  brandKitId?: string | null;
  /** The end card's line, over the brand kit's ("" for no end card). */
  callToAction?: string | null;
  /** A voice id from `voices()`; "default": the language's voice; null: no voice-over. */
  voice?: string | null;
  /** The voice-over's language tag (en, fr, pt-BR…); default: the brief's. */
  language?: string | null;
  /** Captions burned into the video (and written as .srt/.vtt): WORD, SENTENCE or NONE. */
  captions?: CaptionStyle;
  /** The mood of a generated music bed, or NONE. */
  music?: MusicMood;
  /** An uploaded mp3, wav or m4a used as the music bed instead of a generated one. */
  musicAssetId?: string | null;
}

export interface UploadProgress {
  id: string;
  name: string;
  sent: number;
  total: number;
  asset: Asset | null;
  error: ReelforgeError | null;
}

export interface VideoGenerationState {
  job: Job | null;
  scenes: Scene[];
  status: JobStatus | null;
  stage: string | null;
  progress: number;
  cost: { estimated: number | null; actual: number };
  error: ReelforgeError | null;
  exports: Export[];
  /** How the job is being followed right now. */
  live: "idle" | "socket" | "polling";
  /** Uploads started through `upload`, with their progress. */
  uploads: UploadProgress[];
  /** An action is in flight. */
  busy: boolean;
}

export interface VideoGenerationActions {
  create: (input: CreateJobOptions) => Promise<Job | null>;
  /** The voices `create` can speak with (of one language if given). */
  voices: (language?: string | null) => Promise<Voice[] | null>;
  upload: (file: Blob & { name?: string }) => Promise<Asset | null>;
  /** A new image prompt, motion prompt, asset or narration ("" for silence) for one scene. */
  refineScene: (sceneIndex: number, input: RefineSceneInput) => Promise<Job | null>;
  approve: () => Promise<Job | null>;
  render: () => Promise<Job | null>;
  cancel: () => Promise<Job | null>;
  retry: () => Promise<Job | null>;
  /**
   * Other sizes and formats of the finished video. A target with a `platform` takes its ratio
   * when none is given, and its file is measured against the platform's rules
   * (`Export.platformChecks`).
   */
  exportVideo: (targets: ExportTargetInput[]) => Promise<Export[] | null>;
  /** The placements `create` and `exportVideo` know, with their rules. */
  platforms: () => Promise<PlatformPreset[] | null>;
  /** The client's brand kits. */
  brandKits: () => Promise<BrandKit[] | null>;
  /** Create a brand kit, or replace `input.id` (upload its logo and font first). */
  saveBrandKit: (input: BrandKitInput) => Promise<BrandKit | null>;
  /** Remove a brand kit (jobs made with it keep their copy); answers its id. */
  deleteBrandKit: (id: string) => Promise<string | null>;
  /** Open an existing job (for example from the list of past jobs). */
  load: (jobId: string) => Promise<Job | null>;
  /** Forget the current job and error. */
  reset: () => void;
  clearError: () => void;
}

export interface UseVideoGenerationOptions {
  client: ReelforgeClient;
  /** Start with (and follow) this job. */
  jobId?: string | null;
  /** Polling interval when websockets are unavailable, in ms (default 1000). */
  pollInterval?: number;
}

const pendingExport = (job: Job | null): boolean =>
  job?.exports.some((e) => e.status === "QUEUED" || e.status === "PROCESSING") ?? false;

function needsFollowing(job: Job | null): boolean {
  return job !== null && (!isTerminal(job.status) || pendingExport(job));
}

export function useVideoGeneration(
  options: UseVideoGenerationOptions,
): VideoGenerationState & VideoGenerationActions {
  const { client, pollInterval = 1000 } = options;
  const [job, setJobState] = useState<Job | null>(null);
  const [error, setError] = useState<ReelforgeError | null>(null);
  const [live, setLive] = useState<VideoGenerationState["live"]>("idle");
  const [uploads, setUploads] = useState<UploadProgress[]>([]);
  const [busyCount, setBusyCount] = useState(0);
  // Bumped whenever an action may have made the job move again, so the follower restarts.
  const [followEpoch, setFollowEpoch] = useState(0);
  const mounted = useRef(false);
  const jobRef = useRef<Job | null>(null);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  // Newer information only: a late answer never rolls the job back.
  const setJob = useCallback((next: Job | null) => {
    if (!mounted.current) return;
    const current = jobRef.current;
    if (next && current && next.id === current.id && next.updatedAt < current.updatedAt) return;
    jobRef.current = next;
    setJobState(next);
  }, []);

  const jobId = job?.id ?? null;
  const following = needsFollowing(job);

  // Follow the job: subscription first, polling when the socket cannot be used.
  useEffect(() => {
    if (!jobId || !following) {
      setLive("idle");
      return;
    }
    let stopped = false;
    let stopSubscription: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;

    const poll = async (): Promise<void> => {
      if (stopped) return;
      const result = await client.request(JobDocument, { id: jobId });
      if (stopped) return;
      if (result.ok) {
        setJob(result.data.job);
        if (!needsFollowing(result.data.job)) {
          setLive("idle");
          return;
        }
      } else if (result.error.code !== "NETWORK_ERROR") {
        setError(result.error);
        setLive("idle");
        return;
      }
      timer = setTimeout(() => void poll(), pollInterval);
    };

    const startPolling = (): void => {
      if (stopped) return;
      setLive("polling");
      void poll();
    };

    const current = jobRef.current;
    if (current && isTerminal(current.status)) {
      // Only exports are still running: the subscription has nothing more to say.
      startPolling();
    } else {
      try {
        setLive("socket");
        stopSubscription = client.jobProgress(jobId, {
          next: (update) => {
            if (!stopped) setJob(update.job);
          },
          error: (err) => {
            if (stopped) return;
            if (err.code === "SOCKET_CLOSED" || err.code === "NETWORK_ERROR") startPolling();
            else {
              setError(err);
              setLive("idle");
            }
          },
          complete: () => {
            if (!stopped) setLive("idle");
          },
        });
      } catch {
        startPolling();
      }
    }
    return () => {
      stopped = true;
      stopSubscription?.();
      if (timer) clearTimeout(timer);
    };
  }, [client, jobId, following, followEpoch, pollInterval, setJob]);

  // Run one action: errors land in `error` as typed values, never as rejections.
  const run = useCallback(
    async <T>(action: () => Promise<T>, after?: (value: T) => void): Promise<T | null> => {
      if (mounted.current) {
        setError(null);
        setBusyCount((n) => n + 1);
      }
      try {
        const value = await action();
        if (mounted.current) after?.(value);
        return value;
      } catch (err) {
        if (mounted.current) setError(toReelforgeError(err));
        return null;
      } finally {
        if (mounted.current) setBusyCount((n) => n - 1);
      }
    },
    [],
  );

  const requireJob = (): string => {
    const id = jobRef.current?.id;
    if (!id) throw new ReelforgeError("BAD_USER_INPUT", "no job yet: create or load one first");
    return id;
  };

  const adopt = useCallback(
    (next: Job) => {
      setJob(next);
      if (mounted.current) setFollowEpoch((n) => n + 1);
    },
    [setJob],
  );

  const { jobId: initialJobId } = options;
  const actions = useMemo<VideoGenerationActions>(
    () => ({
      create: (input) => run(() => client.createJob(input), adopt),
      voices: (language) => run(() => client.voices(language)),
      platforms: () => run(() => client.platforms()),
      brandKits: () => run(() => client.brandKits()),
      saveBrandKit: (input) => run(() => client.saveBrandKit(input)),
      deleteBrandKit: (id) => run(() => client.deleteBrandKit(id)),
      load: (id) => run(() => client.job(id), adopt),
      upload: async (file) => {
        const id = Math.random().toString(36).slice(2);
        const name = file.name ?? "upload";
        const patch = (change: Partial<UploadProgress>): void => {
          if (!mounted.current) return;
          setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...change } : u)));
        };
        if (mounted.current) {
          setUploads((list) => [
            ...list,
            { id, name, sent: 0, total: file.size, asset: null, error: null },
          ]);
        }
        return run(
          () =>
            client
              .upload(file, { onProgress: (sent, total) => patch({ sent, total }) })
              .catch((err: unknown) => {
                patch({ error: toReelforgeError(err) });
                throw err;
              }),
          (asset) => {
            // Done: the bar is full whatever the multipart overhead made the total.
            if (!mounted.current) return;
            setUploads((list) => list.map((u) => (u.id === id ? { ...u, asset, sent: u.total } : u)));
          },
        );
      },
      refineScene: (sceneIndex, input) =>
        run(() => client.refineScene(requireJob(), sceneIndex, input), adopt),
      approve: () => run(() => client.approveStoryboard(requireJob()), adopt),
      render: () => run(() => client.renderVideo(requireJob()), adopt),
      cancel: () => run(() => client.cancelJob(requireJob()), adopt),
      retry: () => run(() => client.retryJob(requireJob()), adopt),
      exportVideo: (targets) =>
        run(
          async () => {
            const id = requireJob();
            const created = await client.exportVideo(id, { targets });
            return { created, job: await client.job(id) };
          },
          ({ job: next }) => adopt(next),
        ).then((value) => value?.created ?? null),
      reset: () => {
        jobRef.current = null;
        setJobState(null);
        setError(null);
        setUploads([]);
      },
      clearError: () => setError(null),
    }),
    [client, run, adopt],
  );

  // A job id given by the caller is loaded once per id.
  useEffect(() => {
    if (initialJobId && jobRef.current?.id !== initialJobId) void actions.load(initialJobId);
  }, [initialJobId, actions]);

  return {
    job,
    scenes: job?.scenes ?? [],
    status: job?.status ?? null,
    stage: job?.stage ?? null,
    progress: job?.progress ?? 0,
    cost: { estimated: job?.estimatedCost ?? null, actual: job?.actualCost ?? 0 },
    error,
    exports: job?.exports ?? [],
    live,
    uploads,
    busy: busyCount > 0,
    ...actions,
  };
}
