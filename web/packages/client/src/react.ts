export {
  useVideoGeneration,
  type CreateJobOptions,
  type UploadProgress,
  type UseVideoGenerationOptions,
  type VideoGenerationActions,
  type VideoGenerationState,
} from "./useVideoGeneration.js";
export * from "./index.js";
