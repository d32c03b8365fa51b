import type { CaptionStyle, MusicMood, ReelforgeClient, Voice } from "@reelforge/client";
import { toReelforgeError } from "@reelforge/client";
import { useEffect, useId, useState } from "react";

/** The voice-over, captions and music a job is created with (the service's defaults first). */
export interface SoundSettings {
  /** A voice id, DEFAULT_VOICE (the language's voice) or NO_VOICE. */
  voice: string;
  /** A language tag, or "" for the brief's language. */
  language: string;
  captions: CaptionStyle;
  /** A mood, or `track:<asset id>` for an uploaded track. */
  music: MusicMood | `track:${string}`;
}

export const DEFAULT_VOICE = "default";
export const NO_VOICE = "none";
const TRACK = "track:";

export const DEFAULT_SOUND: SoundSettings = { voice: DEFAULT_VOICE, language: "", captions: "WORD", music: "UPBEAT" };

const CAPTIONS: { value: CaptionStyle; label: string }[] = [
  { value: "WORD", label: "Word (highlighted)" },
  { value: "SENTENCE", label: "Sentence" },
  { value: "NONE", label: "None" },
];

const MOODS: { value: MusicMood; label: string }[] = [
  { value: "UPBEAT", label: "Upbeat" },
  { value: "CALM", label: "Calm" },
  { value: "CORPORATE", label: "Corporate" },
  { value: "DRAMATIC", label: "Dramatic" },
  { value: "PLAYFUL", label: "Playful" },
  { value: "NONE", label: "No music" },
];

/** The CreateJobInput fields for these settings. */
export function soundInput(sound: SoundSettings) {
  const track = sound.music.startsWith(TRACK) ? sound.music.slice(TRACK.length) : null;
  return {
    voice: sound.voice === NO_VOICE ? null : sound.voice,
    ...(sound.language ? { language: sound.language } : {}),
    captions: sound.captions,
    // An uploaded track wins over a mood; its mood is left at the default.
    ...(track ? { musicAssetId: track } : { music: sound.music as MusicMood }),
  };
}

const baseLanguage = (tag: string) => tag.split("-")[0]!.toLowerCase();

function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** The service's voices, loaded once per client (a new token makes a new client). */
function useVoices(client: ReelforgeClient, enabled: boolean) {
  const [voices, setVoices] = useState<Voice[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    client.voices().then(
      (list) => {
        if (!live) return;
        setVoices(list);
        setProblem(null);
      },
      (err: unknown) => {
        if (live) setProblem(toReelforgeError(err).code);
      },
    );
    return () => {
      live = false;
    };
  }, [client, enabled]);
  return { voices, problem };
}

export function Soundtrack({
  client,
  enabled,
  value,
  onChange,
  tracks,
}: {
  client: ReelforgeClient;
  /** Whether the API can be asked (a token is set). */
  enabled: boolean;
  value: SoundSettings;
  onChange: (next: SoundSettings) => void;
  /** Uploaded audio tracks, ready to be the music bed. */
  tracks: { id: string; name: string }[];
}) {
  const id = useId();
  const { voices, problem } = useVoices(client, enabled);
  const languages = [...new Set(voices.map((v) => v.language).filter((l) => l !== "*"))].sort();
  const shown = value.language
    ? voices.filter((v) => v.language === "*" || baseLanguage(v.language) === baseLanguage(value.language))
    : voices;
  const set = (change: Partial<SoundSettings>) => onChange({ ...value, ...change });

  // A newly uploaded track becomes the music bed (the user can switch back to a mood).
  const latest = tracks.at(-1)?.id;
  useEffect(() => {
    if (latest) onChange({ ...value, music: `${TRACK}${latest}` });
    // Only when a new track arrives, not on every change of the other settings.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [latest]);

  return (
    <fieldset className="sound">
      <legend>Voice-over, captions and music</legend>
      <div className="grid2">
        <div>
          <label htmlFor={`${id}-language`}>Language</label>
          <select
            id={`${id}-language`}
            data-testid="language-select"
            value={value.language}
            onChange={(event) => {
              const language = event.target.value;
              const keep =
                value.voice === DEFAULT_VOICE ||
                value.voice === NO_VOICE ||
                !language ||
                voices.some((v) => v.id === value.voice && (v.language === "*" || baseLanguage(v.language) === baseLanguage(language)));
              set({ language, ...(keep ? {} : { voice: DEFAULT_VOICE }) });
            }}
          >
            <option value="">Auto</option>
            {languages.map((tag) => (
              <option key={tag} value={tag}>
                {languageName(tag)} ({tag})
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-captions`}>Captions</label>
          <select
            id={`${id}-captions`}
            data-testid="captions-select"
            value={value.captions}
            onChange={(event) => set({ captions: event.target.value as CaptionStyle })}
          >
            {CAPTIONS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div className="span2">
          <label htmlFor={`${id}-voice`}>Voice</label>
          <select
            id={`${id}-voice`}
            data-testid="voice-select"
            value={value.voice}
            aria-describedby={problem ? `${id}-voice-hint` : undefined}
            onChange={(event) => set({ voice: event.target.value })}
          >
            <option value={DEFAULT_VOICE}>The language&apos;s default voice</option>
            <option value={NO_VOICE}>No voice-over</option>
            {shown.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name}
                {v.gender ? ` · ${v.gender}` : ""}
              </option>
            ))}
          </select>
        </div>
        <div className="span2">
          <label htmlFor={`${id}-music`}>Music</label>
          <select
            id={`${id}-music`}
            data-testid="music-select"
            value={value.music}
            aria-describedby={`${id}-music-hint`}
            onChange={(event) => set({ music: event.target.value as SoundSettings["music"] })}
          >
            <optgroup label="Generated bed">
              {MOODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </optgroup>
            {tracks.length ? (
              <optgroup label="Your tracks">
                {tracks.map((t) => (
                  <option key={t.id} value={`${TRACK}${t.id}`}>
                    {t.name}
                  </option>
                ))}
              </optgroup>
            ) : null}
          </select>
        </div>
      </div>
      <p id={`${id}-music-hint`} className="muted">
        Drop an mp3, wav or m4a below to use your own track; music is ducked under the voice and the mix is
        normalised to −14 LUFS.
      </p>
      {problem ? (
        <p id={`${id}-voice-hint`} className="muted">
          The voices could not be listed ({problem}); the default voice is used.
        </p>
      ) : null}
    </fieldset>
  );
}
