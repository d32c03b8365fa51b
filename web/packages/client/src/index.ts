export {
  ReelforgeClient,
  createReelforgeClient,
  isTerminal,
  TERMINAL_STATUSES,
  type Asset,
  type Export,
  type Job,
  type JobProgress,
  type JobSummary,
  type ReelforgeClientOptions,
  type Scene,
  type Sink,
  type SocketState,
  type UploadOptions,
  type Voice,
} from "./client.js";
export {
  ReelforgeError,
  SERVER_ERROR_CODES,
  isReelforgeError,
  toReelforgeError,
  type ClientErrorCode,
  type ErrorCode,
  type Result,
  type ServerErrorCode,
} from "./errors.js";
export * from "./generated/graphql.js";
