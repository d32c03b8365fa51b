import { ReelforgeClient, type SocketState } from "@reelforge/client";
import { useVideoGeneration } from "@reelforge/client/react";
import { useMemo, useRef, useState } from "react";

import { BrandKits } from "./BrandKits";
import { BriefForm } from "./BriefForm";
import { ASPECT_LABELS, useBrandKits, usePlatforms } from "./catalog";
import { ErrorBanner } from "./ErrorBanner";
import { Exports } from "./Exports";
import { JobList } from "./JobList";
import { Storyboard } from "./Storyboard";
import { TokenPanel } from "./TokenPanel";
import { loadToken, saveToken } from "./token";
import { formatLoudness, formatMoney } from "./format";

export function App() {
  const [token, setToken] = useState(loadToken);
  const [socket, setSocket] = useState<SocketState>("idle");
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const client = useMemo(
    () =>
      new ReelforgeClient({
        url: "/graphql",
        token: () => tokenRef.current,
        onSocketState: setSocket,
      }),
    // A new token means a new socket (the token goes in connection_init).
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [token],
  );
  const gen = useVideoGeneration({ client });
  const [jobsVersion, setJobsVersion] = useState(0);
  const { platforms } = usePlatforms(client, Boolean(token));
  const { kits, reload: reloadKits } = useBrandKits(client, Boolean(token));
  const [savedKitId, setSavedKitId] = useState<string | null>(null);

  const onSaveToken = (value: string) => {
    saveToken(value);
    setToken(value);
    gen.reset();
  };

  const job = gen.job;
  const canApprove = job?.status === "STORYBOARD_COMPLETE" && !job.approved;
  // Rendering needs an approved storyboard (the API answers FORBIDDEN otherwise).
  const canRender = job?.status === "STORYBOARD_COMPLETE" && job.approved;
  const platformLabel = platforms.find((p) => p.platform === job?.platform)?.label ?? job?.platform ?? null;
  const running =
    job !== null && !["COMPLETED", "FAILED", "CANCELED", "STORYBOARD_COMPLETE"].includes(job.status);

  return (
    <div className="app">
      <header className="top">
        <h1>Reelforge Studio</h1>
        <span className="socket" aria-live="polite">
          {gen.live === "polling" ? "live updates: polling" : socket === "reconnecting" ? "reconnecting…" : null}
        </span>
      </header>
      <main className="layout">
        <section className="column" aria-label="Set-up">
          <TokenPanel token={token} onSave={onSaveToken} />
          <BriefForm
            client={client}
            connected={Boolean(token)}
            disabled={!token || gen.busy}
            uploads={gen.uploads}
            platforms={platforms}
            kits={kits}
            preferredKitId={savedKitId}
            onUpload={(file) => void gen.upload(file)}
            onCreate={async (input) => {
              const created = await gen.create(input);
              if (created) setJobsVersion((n) => n + 1);
            }}
          />
          {token ? (
            <BrandKits
              client={client}
              kits={kits}
              disabled={gen.busy}
              onSave={async (input) => {
                const saved = await gen.saveBrandKit(input);
                if (saved) {
                  setSavedKitId(saved.id);
                  reloadKits();
                }
                return saved;
              }}
              onDelete={async (kitId) => {
                if ((await gen.deleteBrandKit(kitId)) !== null) {
                  if (savedKitId === kitId) setSavedKitId(null);
                  reloadKits();
                }
              }}
            />
          ) : null}
          {token ? (
            <JobList client={client} version={`${jobsVersion}:${job?.id ?? ""}:${job?.status ?? ""}`} currentId={job?.id ?? null} onOpen={(id) => void gen.load(id)} />
          ) : null}
        </section>
        <section className="column wide" aria-label="Job">
          <ErrorBanner error={gen.error} onDismiss={gen.clearError} />
          {job ? (
            <>
              <div className="card job-head" data-testid="job-head" data-job-id={job.id}>
                <h2>
                  Job <code>{job.id.slice(0, 8)}</code> — {job.status.toLowerCase().replace("_", " ")}
                </h2>
                <p className="brief">{job.brief}</p>
                <div
                  className="bar"
                  role="progressbar"
                  data-testid="progress"
                  aria-label="Job progress"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={gen.progress}
                  aria-valuetext={`${gen.progress}% ${gen.stage ?? ""}`.trim()}
                >
                  <div className="fill" style={{ width: `${gen.progress}%` }} />
                </div>
                <p className="muted">
                  {gen.stage ? `Stage: ${gen.stage} · ` : ""}
                  {gen.progress}%
                </p>
                <dl className="cost">
                  <div>
                    <dt>Estimated cost</dt>
                    <dd data-testid="cost-estimated">{formatMoney(gen.cost.estimated)}</dd>
                  </div>
                  <div>
                    <dt>Paid so far</dt>
                    <dd data-testid="cost-actual">{formatMoney(gen.cost.actual)}</dd>
                  </div>
                </dl>
                <dl className="settings" aria-label="Platform, brand, voice-over, captions and music">
                  <div>
                    <dt>Voice</dt>
                    <dd data-testid="job-voice" data-voice={job.voice ?? ""}>
                      {job.voice ?? "no voice-over"} · {job.language}
                    </dd>
                  </div>
                  <div>
                    <dt>Platform</dt>
                    <dd data-testid="job-platform" data-platform={job.platform ?? ""}>
                      {platformLabel ?? "any"} · {ASPECT_LABELS[job.aspectRatio]} · {job.targetDuration} s
                    </dd>
                  </div>
                  <div>
                    <dt>Brand kit</dt>
                    <dd data-testid="job-brand-kit" data-kit-id={job.brandKitId ?? ""}>
                      {job.brandKitId ? (kits.find((k) => k.id === job.brandKitId)?.name ?? "a deleted kit") : "none"}
                    </dd>
                  </div>
                  <div>
                    <dt>End card</dt>
                    <dd data-testid="job-cta">{job.callToAction ? `“${job.callToAction}”` : "none"}</dd>
                  </div>
                  <div>
                    <dt>Captions</dt>
                    <dd data-testid="job-captions">{job.captions.toLowerCase()}</dd>
                  </div>
                  <div>
                    <dt>Music</dt>
                    <dd data-testid="job-music">{job.musicAssetId ? "your track" : job.music.toLowerCase()}</dd>
                  </div>
                </dl>
                <div className="actions">
                  <button type="button" data-testid="approve" disabled={!canApprove || gen.busy} onClick={() => void gen.approve()}>
                    {job.approved ? "Approved" : "Approve storyboard"}
                  </button>
                  <button type="button" data-testid="render" disabled={!canRender || gen.busy} onClick={() => void gen.render()}>
                    Render video
                  </button>
                  <button type="button" data-testid="cancel" disabled={!running || gen.busy} onClick={() => void gen.cancel()}>
                    Cancel
                  </button>
                  {job.status === "FAILED" ? (
                    <button type="button" data-testid="retry" disabled={gen.busy} onClick={() => void gen.retry()}>
                      Retry
                    </button>
                  ) : null}
                </div>
                {job.errorMessage ? <p className="warn">{job.errorMessage}</p> : null}
              </div>
              <Storyboard
                scenes={gen.scenes}
                editable={job.status === "STORYBOARD_COMPLETE" || job.status === "COMPLETED" || job.status === "FAILED"}
                busy={gen.busy}
                onRefine={(index, input) => void gen.refineScene(index, input)}
              />
              {job.video ? (
                <div className="card">
                  <h2>Video</h2>
                  <video
                    data-testid="result-video"
                    controls
                    preload="auto"
                    src={job.video.url}
                    poster={job.thumbnail?.url}
                    aria-label="The rendered ad"
                  />
                  <p className="files">
                    <a href={job.video.url} download>
                      Download MP4
                    </a>
                    {job.captionsSrt ? (
                      <a href={job.captionsSrt.url} download={`reelforge-${job.id.slice(0, 8)}.srt`} data-testid="captions-srt">
                        Captions (.srt)
                      </a>
                    ) : null}
                    {job.captionsVtt ? (
                      <a href={job.captionsVtt.url} download={`reelforge-${job.id.slice(0, 8)}.vtt`} data-testid="captions-vtt">
                        Captions (.vtt)
                      </a>
                    ) : null}
                  </p>
                  {job.video.loudnessLufs != null ? (
                    <p className="muted" data-testid="loudness" data-lufs={job.video.loudnessLufs} data-true-peak={job.video.truePeakDb ?? ""}>
                      {formatLoudness(job.video.loudnessLufs, job.video.truePeakDb)}
                    </p>
                  ) : null}
                </div>
              ) : null}
              {job.status === "COMPLETED" ? (
                <Exports
                  exports={gen.exports}
                  platforms={platforms}
                  videoSeconds={job.video?.durationSeconds ?? null}
                  busy={gen.busy}
                  onExport={(targets) => void gen.exportVideo(targets)}
                />
              ) : null}
            </>
          ) : (
            <div className="card empty">
              <h2>No job open</h2>
              <p>Write a brief and create a job, or open one of your past jobs.</p>
            </div>
          )}
        </section>
      </main>
    </div>
  );
}
