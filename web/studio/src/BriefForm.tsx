import type { AspectRatio, BrandKit, Platform, PlatformPreset, ReelforgeClient } from "@reelforge/client";
import type { CreateJobOptions, UploadProgress } from "@reelforge/client/react";
import { useEffect, useId, useState } from "react";

import { ASPECT_LABELS, durationRange, presetSummary } from "./catalog";
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
  /** The `platforms` query's rows. */
  platforms: PlatformPreset[];
  /** The client's brand kits. */
  kits: BrandKit[];
  /** A kit just saved: it becomes the selected one. */
  preferredKitId: string | null;
  onUpload: (file: File) => void;
  onCreate: (input: CreateJobOptions) => Promise<void>;
}

const pct = (f: number) => `${Math.round(f * 100)} %`;

export function BriefForm({ client, connected, disabled, uploads, platforms, kits, preferredKitId, onUpload, onCreate }: Props) {
  const id = useId();
  const [brief, setBrief] = useState("");
  const [aspectRatio, setAspectRatio] = useState<AspectRatio>("LANDSCAPE_16_9");
  const [sceneCount, setSceneCount] = useState(3);
  const [duration, setDuration] = useState(9);
  const [style, setStyle] = useState("");
  const [useUploads, setUseUploads] = useState(true);
  const [sound, setSound] = useState<SoundSettings>(DEFAULT_SOUND);
  const [platform, setPlatform] = useState<Platform | "">("");
  const [brandKitId, setBrandKitId] = useState("");
  const [callToAction, setCallToAction] = useState("");
  const [noEndCard, setNoEndCard] = useState(false);
  const [headlines, setHeadlines] = useState(false);
  const preset = platforms.find((p) => p.platform === platform);
  const range = durationRange(preset);
  const kit = kits.find((k) => k.id === brandKitId);

  // A kit just saved is selected; a deleted kit is unselected.
  useEffect(() => {
    if (preferredKitId) setBrandKitId(preferredKitId);
  }, [preferredKitId]);
  useEffect(() => {
    if (brandKitId && !kits.some((k) => k.id === brandKitId) && brandKitId !== preferredKitId) setBrandKitId("");
  }, [kits, brandKitId, preferredKitId]);

  const choosePlatform = (value: Platform | "") => {
    setPlatform(value);
    const next = platforms.find((p) => p.platform === value);
    if (!next) return;
    // The platform's ratio, and a duration inside its range (its default when outside).
    setAspectRatio(next.aspectRatio);
    const { min, max } = durationRange(next);
    setDuration((d) => (d >= min && d <= max ? d : next.defaultSeconds));
  };
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
          ...(platform ? { platform } : {}),
          aspectRatio,
          sceneCount,
          targetDuration: duration,
          ...(style.trim() ? { style: style.trim() } : {}),
          ...(useUploads && ready.length ? { assetIds: ready } : {}),
          ...soundInput(sound),
          ...(brandKitId ? { brandKitId } : {}),
          ...(noEndCard ? { callToAction: "" } : callToAction.trim() ? { callToAction: callToAction.trim() } : {}),
          ...(headlines ? { headlines: true } : {}),
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
      <label htmlFor={`${id}-platform`}>Platform</label>
      <select
        id={`${id}-platform`}
        data-testid="platform-select"
        value={platform}
        aria-describedby={`${id}-platform-hint`}
        onChange={(event) => choosePlatform(event.target.value as Platform | "")}
      >
        <option value="">Any (no platform rules)</option>
        {platforms.map((p) => (
          <option key={p.platform} value={p.platform}>
            {p.label} ({presetSummary(p)})
          </option>
        ))}
      </select>
      <p id={`${id}-platform-hint`} className="muted" data-testid="platform-hint">
        {preset
          ? `${ASPECT_LABELS[preset.aspectRatio]}, at least ${preset.minWidth}×${preset.minHeight}, ${range.min}–${range.max} s. ` +
            `Captions, headline and logo stay inside its safe zone (top ${pct(preset.safeZone.top)}, bottom ${pct(preset.safeZone.bottom)}, ${
              preset.safeZone.left === preset.safeZone.right
                ? `sides ${pct(preset.safeZone.left)}`
                : `left ${pct(preset.safeZone.left)}, right ${pct(preset.safeZone.right)}`
            }).`
          : "Choose where the ad runs: its ratio, duration range and safe zone apply."}
      </p>
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
              <option key={a.value} value={a.value} disabled={preset !== undefined && preset.aspectRatio !== a.value}>
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
            min={range.min}
            max={range.max}
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
      <fieldset className="group">
        <legend>Brand</legend>
        <label htmlFor={`${id}-kit`}>Brand kit</label>
        <select id={`${id}-kit`} data-testid="brand-kit-select" value={brandKitId} onChange={(event) => setBrandKitId(event.target.value)}>
          <option value="">No brand kit</option>
          {kits.map((k) => (
            <option key={k.id} value={k.id}>
              {k.name}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-cta`}>Call to action</label>
        <input
          id={`${id}-cta`}
          data-testid="cta-input"
          maxLength={60}
          value={callToAction}
          disabled={noEndCard}
          aria-describedby={`${id}-cta-hint`}
          onChange={(event) => setCallToAction(event.target.value)}
          placeholder={kit?.callToAction ?? "Order today"}
        />
        <p id={`${id}-cta-hint`} className="muted">
          The end card&apos;s line, over the brand kit&apos;s{kit?.callToAction ? ` (“${kit.callToAction}”)` : ""}; empty: the kit&apos;s.
        </p>
        <label className="check">
          <input type="checkbox" data-testid="no-end-card" checked={noEndCard} onChange={(event) => setNoEndCard(event.target.checked)} /> No end card
        </label>
        <label className="check">
          <input type="checkbox" data-testid="headlines-input" checked={headlines} onChange={(event) => setHeadlines(event.target.checked)} /> Write a headline for
          each scene
        </label>
      </fieldset>
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
