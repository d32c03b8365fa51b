import type { AspectRatio, ReelforgeClient } from "@reelforge/client";
import type { CreateJobOptions, UploadProgress } from "@reelforge/client/react";
import { useId, useState } from "react";

import { Dropzone } from "./Dropzone";
import { DEFAULT_SOUND, Soundtrack, soundInput, type SoundSettings } from "./Soundtrack";

const ASPECTS: { value: AspectRatio; label: string }[] = [
  { value: "LANDSCAPE_16_9", label: "16:9 landscape" },
  { value: "PORTRAIT_9_16", label: "9:16 vertical" },
  { value: "SQUARE_1_1", label: "1:1 square" },
  { value: "PORTRAIT_4_5", label: "4:5 portrait" },
];

interface Props {
  client: ReelforgeClient;
  /** A token is set: the API can be asked (for the voices). */
  connected: boolean;
  disabled: boolean;
  uploads: UploadProgress[];
  onUpload: (file: File) => void;
  onCreate: (input: CreateJobOptions) => Promise<void>;
}

export function BriefForm({ client, connected, disabled, uploads, onUpload, onCreate }: Props) {
  const id = useId();
  const [brief, setBrief] = useState("");
  const [aspectRatio, setAspectRatio] = useState<AspectRatio>("LANDSCAPE_16_9");
  const [sceneCount, setSceneCount] = useState(3);
  const [duration, setDuration] = useState(9);
  const [style, setStyle] = useState("");
  const [useUploads, setUseUploads] = useState(true);
  const [sound, setSound] = useState<SoundSettings>(DEFAULT_SOUND);
  // Pictures and clips go to the first scenes; audio tracks to the music select.
  const done = uploads.flatMap((u) => (u.asset ? [{ name: u.name, asset: u.asset }] : []));
  const ready = done.filter((u) => !u.asset.contentType.startsWith("audio/")).map((u) => u.asset.id);
  const tracks = done.filter((u) => u.asset.contentType.startsWith("audio/")).map((u) => ({ id: u.asset.id, name: u.name }));

  return (
    <form
      className="card"
      aria-labelledby={`${id}-title`}
      onSubmit={(event) => {
        event.preventDefault();
        void onCreate({
          brief: brief.trim(),
          aspectRatio,
          sceneCount,
          targetDuration: duration,
          ...(style.trim() ? { style: style.trim() } : {}),
          ...(useUploads && ready.length ? { assetIds: ready } : {}),
          ...soundInput(sound),
        });
      }}
    >
      <h2 id={`${id}-title`}>Brief</h2>
      <label htmlFor={`${id}-brief`}>What is the ad about?</label>
      <textarea
        id={`${id}-brief`}
        data-testid="brief-input"
        required
        minLength={3}
        maxLength={2000}
        rows={4}
        value={brief}
        onChange={(event) => setBrief(event.target.value)}
        placeholder="Cold brew coffee. Smooth and bold. Try it today."
      />
      <div className="grid2">
        <div>
          <label htmlFor={`${id}-aspect`}>Aspect ratio</label>
          <select
            id={`${id}-aspect`}
            data-testid="aspect-input"
            value={aspectRatio}
            onChange={(event) => setAspectRatio(event.target.value as AspectRatio)}
          >
            {ASPECTS.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-scenes`}>Scenes</label>
          <input
            id={`${id}-scenes`}
            data-testid="scene-count-input"
            type="number"
            min={1}
            max={12}
            value={sceneCount}
            onChange={(event) => setSceneCount(Number(event.target.value))}
          />
        </div>
        <div>
          <label htmlFor={`${id}-duration`}>Duration (s)</label>
          <input
            id={`${id}-duration`}
            data-testid="duration-input"
            type="number"
            min={2}
            max={120}
            step={1}
            value={duration}
            onChange={(event) => setDuration(Number(event.target.value))}
          />
        </div>
        <div>
          <label htmlFor={`${id}-style`}>Style</label>
          <input
            id={`${id}-style`}
            data-testid="style-input"
            value={style}
            onChange={(event) => setStyle(event.target.value)}
            placeholder="warm, cinematic"
          />
        </div>
      </div>
      <Soundtrack client={client} enabled={connected} value={sound} onChange={setSound} tracks={tracks} />
      <Dropzone uploads={uploads} onFile={onUpload} disabled={disabled} />
      {ready.length ? (
        <label className="check">
          <input type="checkbox" checked={useUploads} onChange={(event) => setUseUploads(event.target.checked)} /> Use my{" "}
          {ready.length} upload{ready.length > 1 ? "s" : ""} for the first scenes
        </label>
      ) : null}
      <button type="submit" data-testid="create-job" disabled={disabled || brief.trim().length < 3}>
        Create storyboard
      </button>
    </form>
  );
}
