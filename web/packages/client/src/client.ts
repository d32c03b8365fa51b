/**
 * The Reelforge client: fetch for queries, mutations and multipart uploads; graphql-ws for
 * subscriptions, reconnecting and re-subscribing after a dropped socket. Every operation is
 * typed by graphql-codegen from the service's schema.graphql.
 */
import { createClient, type Client as WsClient } from "graphql-ws";

import { ReelforgeError, toReelforgeError, type GraphQLErrorShape, type Result } from "./errors.js";
import {
  ApproveStoryboardDocument,
  BrandKitsDocument,
  CancelJobDocument,
  CreateJobDocument,
  DeleteBrandKitDocument,
  ExportVideoDocument,
  JobDocument,
  JobProgressDocument,
  JobsDocument,
  PlatformsDocument,
  RefineSceneDocument,
  RenderVideoDocument,
  RetryJobDocument,
  SaveBrandKitDocument,
  UploadAssetDocument,
  ViewerDocument,
  VoicesDocument,
  type AssetFieldsFragment,
  type BrandKitFieldsFragment,
  type BrandKitInput,
  type CreateJobInput,
  type ExportFieldsFragment,
  type ExportVideoInput,
  type JobFieldsFragment,
  type JobProgressSubscription,
  type JobStatus,
  type JobsQuery,
  type JobsQueryVariables,
  type PlatformFieldsFragment,
  type RefineSceneInput,
  type TypedDocumentString,
  type ViewerQuery,
  type VoicesQuery,
} from "./generated/graphql.js";

export type Job = JobFieldsFragment;
export type Scene = JobFieldsFragment["scenes"][number];
export type Asset = AssetFieldsFragment;
export type Export = ExportFieldsFragment;
export type JobProgress = JobProgressSubscription["jobProgress"];
export type JobSummary = JobsQuery["jobs"]["edges"][number]["node"];
export type Voice = VoicesQuery["voices"][number];
/** A placement's rules (ratio, minimum frame, duration range, size cap, bitrates, safe zone). */
export type PlatformPreset = PlatformFieldsFragment;
export type BrandKit = BrandKitFieldsFragment;
/** One rule of a platform measured on the file an export made. */
export type PlatformCheck = NonNullable<ExportFieldsFragment["platformChecks"]>[number];

/** Statuses after which a job changes no more (until a retry). */
export const TERMINAL_STATUSES: readonly JobStatus[] = ["COMPLETED", "FAILED", "CANCELED"];

export const isTerminal = (status: JobStatus | null | undefined): boolean =>
  status != null && TERMINAL_STATUSES.includes(status);

/** The socket's state, for a UI that wants to show "reconnecting…". */
export type SocketState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

export interface ReelforgeClientOptions {
  /** The GraphQL endpoint: absolute (`http://127.0.0.1:8000/graphql`) or, in a browser, `/graphql`. */
  url: string;
  /** The bearer token (a JWT), or a function returning the current one. */
  token?: string | null | (() => string | null | undefined);
  /** Websocket endpoint; derived from `url` (http → ws) when omitted. */
  wsUrl?: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
  /** A WebSocket implementation (defaults to the global one; pass `ws` in Node < 22). */
  webSocketImpl?: unknown;
  /** How many times a dropped socket is reconnected before subscriptions fail (default 8). */
  retryAttempts?: number;
  /** Called whenever the socket's state changes. */
  onSocketState?: (state: SocketState) => void;
}

export interface Sink<T> {
  next: (value: T) => void;
  error?: (error: ReelforgeError) => void;
  complete?: () => void;
}

export interface UploadOptions {
  /** Called with bytes sent and total while the file is uploaded (uses XMLHttpRequest when present). */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

function baseHref(): string | undefined {
  const loc = (globalThis as { location?: { href?: string } }).location;
  return loc?.href;
}

export class ReelforgeClient {
  readonly url: string;
  readonly wsUrl: string;
  private readonly tokenSource: ReelforgeClientOptions["token"];
  private readonly fetchImpl: typeof fetch;
  private readonly options: ReelforgeClientOptions;
  private ws: WsClient | null = null;
  private socketState: SocketState = "idle";
  private everConnected = false;

  constructor(options: ReelforgeClientOptions) {
    this.options = options;
    const absolute = new URL(options.url, baseHref());
    this.url = absolute.toString();
    const ws = new URL(options.wsUrl ?? this.url, baseHref());
    if (ws.protocol === "http:") ws.protocol = "ws:";
    if (ws.protocol === "https:") ws.protocol = "wss:";
    this.wsUrl = ws.toString();
    this.tokenSource = options.token;
    const f = options.fetch ?? globalThis.fetch;
    this.fetchImpl = (...args) => f(...args);
  }

  /** The token this client sends now. */
  get token(): string | null {
    const source = this.tokenSource;
    const value = typeof source === "function" ? source() : source;
    return value ? value : null;
  }

  /** Resolve a path the API returned (asset URLs are relative) against the API's origin. */
  resolveUrl(path: string): string {
    return new URL(path, this.url).toString();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.token;
    return { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
  }

  /** Run a query or mutation; never throws, answers data or a typed error. */
  async request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    init: { signal?: AbortSignal } = {},
  ): Promise<Result<TResult>> {
    try {
      const response = await this.fetchImpl(this.url, {
        method: "POST",
        headers: this.headers({ "Content-Type": "application/json", Accept: "application/json" }),
        body: JSON.stringify({ query: document.toString(), variables }),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return await parseResponse<TResult>(response);
    } catch (error) {
      return { ok: false, error: toReelforgeError(error) };
    }
  }

  /** Like `request`, but throws the ReelforgeError. */
  async execute<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    init: { signal?: AbortSignal } = {},
  ): Promise<TResult> {
    const result = await this.request(document, variables, init);
    if (!result.ok) throw result.error;
    return result.data;
  }

  /** Start a subscription; returns the function that stops it. */
  subscribe<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    sink: Sink<TResult>,
  ): () => void {
    const ws = this.socket();
    return ws.subscribe<TResult>(
      { query: document.toString(), variables },
      {
        next: (message) => {
          if (message.errors?.length) {
            sink.error?.(ReelforgeError.fromGraphQL(message.errors[0] as GraphQLErrorShape));
          } else if (message.data) {
            sink.next(message.data);
          }
        },
        error: (error: unknown) => sink.error?.(socketError(error)),
        complete: () => sink.complete?.(),
      },
    );
  }

  private setSocketState(state: SocketState): void {
    if (state === this.socketState) return;
    this.socketState = state;
    this.options.onSocketState?.(state);
  }

  private socket(): WsClient {
    if (this.ws) return this.ws;
    const impl = this.options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (!impl) {
      throw new ReelforgeError("SOCKET_CLOSED", "no WebSocket implementation available");
    }
    this.ws = createClient({
      url: this.wsUrl,
      webSocketImpl: impl,
      lazy: true,
      lazyCloseTimeout: 1_000,
      keepAlive: 10_000,
      retryAttempts: this.options.retryAttempts ?? 8,
      // 0.5 s, 1 s, 2 s … capped at 8 s, plus up to 0.5 s of jitter.
      retryWait: async (retries) => {
        const wait = Math.min(500 * 2 ** retries, 8_000) + Math.random() * 500;
        await new Promise((resolve) => setTimeout(resolve, wait));
      },
      // Any close that is not an authentication or protocol refusal is worth a reconnect.
      shouldRetry: (event) => {
        const code = (event as { code?: number } | null)?.code;
        return code === undefined || !(code >= 4400 && code <= 4499);
      },
      connectionParams: () => {
        const token = this.token;
        return token ? { Authorization: `Bearer ${token}` } : {};
      },
      on: {
        connecting: () => this.setSocketState(this.everConnected ? "reconnecting" : "connecting"),
        connected: () => {
          this.everConnected = true;
          this.setSocketState("connected");
        },
        closed: () => this.setSocketState("closed"),
      },
    });
    return this.ws;
  }

  /** Close the socket (subscriptions end); the next subscription opens a new one. */
  close(): void {
    const ws = this.ws;
    this.ws = null;
    this.everConnected = false;
    void ws?.dispose();
    this.setSocketState("idle");
  }

  // ---- typed operations ---------------------------------------------------------------

  async job(id: string): Promise<Job> {
    return (await this.execute(JobDocument, { id })).job;
  }

  async jobs(variables: JobsQueryVariables): Promise<JobsQuery["jobs"]> {
    return (await this.execute(JobsDocument, variables)).jobs;
  }

  async viewer(): Promise<ViewerQuery["viewer"]> {
    return (await this.execute(ViewerDocument, {})).viewer;
  }

  /** The voices the service's provider speaks with, of one language (or its base language) if given. */
  async voices(language?: string | null): Promise<Voice[]> {
    return (await this.execute(VoicesDocument, { language: language ?? null })).voices;
  }

  /** Where an ad can run: each placement's rules and safe zone. */
  async platforms(): Promise<PlatformPreset[]> {
    return (await this.execute(PlatformsDocument, {})).platforms;
  }

  /** The caller's client's brand kits. */
  async brandKits(): Promise<BrandKit[]> {
    return (await this.execute(BrandKitsDocument, {})).brandKits;
  }

  /** Create a brand kit, or replace the kit `input.id`. */
  async saveBrandKit(input: BrandKitInput): Promise<BrandKit> {
    return (await this.execute(SaveBrandKitDocument, { input })).saveBrandKit;
  }

  /** Remove a brand kit (jobs made with it keep their copy); answers the id. */
  async deleteBrandKit(id: string): Promise<string> {
    return (await this.execute(DeleteBrandKitDocument, { id })).deleteBrandKit;
  }

  async createJob(input: CreateJobInput): Promise<Job> {
    return (await this.execute(CreateJobDocument, { input })).createJob;
  }

  async refineScene(jobId: string, sceneIndex: number, input: RefineSceneInput): Promise<Job> {
    return (await this.execute(RefineSceneDocument, { jobId, sceneIndex, input })).refineScene;
  }

  async approveStoryboard(jobId: string): Promise<Job> {
    return (await this.execute(ApproveStoryboardDocument, { jobId })).approveStoryboard;
  }

  async renderVideo(jobId: string): Promise<Job> {
    return (await this.execute(RenderVideoDocument, { jobId })).renderVideo;
  }

  async exportVideo(jobId: string, input: ExportVideoInput): Promise<Export[]> {
    return (await this.execute(ExportVideoDocument, { jobId, input })).exportVideo;
  }

  async cancelJob(jobId: string): Promise<Job> {
    return (await this.execute(CancelJobDocument, { jobId })).cancelJob;
  }

  async retryJob(jobId: string): Promise<Job> {
    return (await this.execute(RetryJobDocument, { jobId })).retryJob;
  }

  /** Follow a job live: its current state first, then every change until it ends. */
  jobProgress(jobId: string, sink: Sink<JobProgress>): () => void {
    return this.subscribe(JobProgressDocument, { jobId }, {
      next: (data) => sink.next(data.jobProgress),
      ...(sink.error ? { error: sink.error } : {}),
      ...(sink.complete ? { complete: sink.complete } : {}),
    });
  }

  /**
   * Upload a jpg, png, mp4 or mov (a scene's still or clip, or a brand kit's logo), an mp3,
   * wav or m4a (a music track for `CreateJobInput.musicAssetId`), or a ttf or otf (a brand
   * kit's font) with the GraphQL multipart request spec. The
   * `apollo-require-preflight` header is what the service's CSRF guard asks for.
   */
  async upload(file: Blob, options: UploadOptions = {}): Promise<Asset> {
    const form = new FormData();
    form.append(
      "operations",
      JSON.stringify({ query: UploadAssetDocument.toString(), variables: { file: null } }),
    );
    form.append("map", JSON.stringify({ "0": ["variables.file"] }));
    const name = (file as { name?: string }).name ?? "upload";
    form.append("0", file, name);
    const headers = this.headers({ "apollo-require-preflight": "true" });
    const hasXhr = typeof (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest === "function";
    let result: Result<{ uploadAsset: Asset }>;
    if (options.onProgress && hasXhr) {
      result = await xhrUpload<{ uploadAsset: Asset }>(this.url, form, headers, file.size, options);
    } else {
      try {
        const response = await this.fetchImpl(this.url, {
          method: "POST",
          headers,
          body: form,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        result = await parseResponse(response);
        if (result.ok) options.onProgress?.(file.size, file.size);
      } catch (error) {
        result = { ok: false, error: toReelforgeError(error) };
      }
    }
    if (!result.ok) throw result.error;
    return result.data.uploadAsset;
  }
}

function socketError(error: unknown): ReelforgeError {
  if (Array.isArray(error) && error.length > 0) {
    return ReelforgeError.fromGraphQL(error[0] as GraphQLErrorShape);
  }
  const close = error as { code?: number; reason?: string } | null;
  if (close && typeof close.code === "number") {
    const reason = close.reason ?? "";
    if (close.code === 4403 || close.code === 4401 || /UNAUTHENTICATED/.test(reason)) {
      return new ReelforgeError("UNAUTHENTICATED", reason || "the socket was refused");
    }
    return new ReelforgeError("SOCKET_CLOSED", `socket closed (${close.code}) ${reason}`.trim());
  }
  return new ReelforgeError("SOCKET_CLOSED", error instanceof Error ? error.message : "socket error", {
    cause: error,
  });
}

async function parseResponse<T>(response: Response): Promise<Result<T>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    return {
      ok: false,
      error: new ReelforgeError("BAD_RESPONSE", `HTTP ${response.status}: not JSON`, {
        status: response.status,
        cause: error,
      }),
    };
  }
  return fromBody<T>(body, response.status);
}

function fromBody<T>(body: unknown, status: number): Result<T> {
  const payload = body as GraphQLResponse<T> & { error?: GraphQLErrorShape["extensions"] };
  if (payload.errors?.length) {
    return { ok: false, error: ReelforgeError.fromGraphQL(payload.errors[0] as GraphQLErrorShape) };
  }
  if (payload.error && typeof payload.error === "object") {
    // A plain-HTTP error from a middleware: {"error": {"code", "message", …}}
    const extensions = payload.error;
    return {
      ok: false,
      error: ReelforgeError.fromGraphQL({ message: String(extensions["message"] ?? ""), extensions }),
    };
  }
  if (status >= 400 || payload.data == null) {
    return {
      ok: false,
      error: new ReelforgeError("BAD_RESPONSE", `HTTP ${status} without data`, { status }),
    };
  }
  return { ok: true, data: payload.data };
}

function xhrUpload<T>(
  url: string,
  form: FormData,
  headers: Record<string, string>,
  total: number,
  options: UploadOptions,
): Promise<Result<T>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [key, value] of Object.entries(headers)) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (event) => {
      options.onProgress?.(event.loaded, event.lengthComputable ? event.total : total);
    };
    xhr.onload = () => {
      try {
        resolve(fromBody<T>(JSON.parse(xhr.responseText) as unknown, xhr.status));
      } catch (error) {
        resolve({
          ok: false,
          error: new ReelforgeError("BAD_RESPONSE", `HTTP ${xhr.status}: not JSON`, {
            status: xhr.status,
            cause: error,
          }),
        });
      }
    };
    xhr.onerror = () => resolve({ ok: false, error: new ReelforgeError("NETWORK_ERROR", "upload failed") });
    xhr.onabort = () => resolve({ ok: false, error: new ReelforgeError("ABORTED", "upload aborted") });
    options.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}

export function createReelforgeClient(options: ReelforgeClientOptions): ReelforgeClient {
  return new ReelforgeClient(options);
}
