import type { Export, ExportTargetInput, PlatformCheck, PlatformPreset } from "@reelforge/client";
import { useId } from "react";

import { ASPECT_LABELS, durationRange, presetSummary } from "./catalog";
import { formatBytes } from "./format";

const PRESETS: { testid: string; label: string; targets: ExportTargetInput[] }[] = [
  { testid: "export-gif", label: "GIF (480p)", targets: [{ aspectRatio: "SQUARE_1_1", resolution: "R480P", container: "GIF" }] },
  { testid: "export-stories", label: "9:16 stories (MP4)", targets: [{ aspectRatio: "PORTRAIT_9_16", container: "MP4" }] },
  { testid: "export-square", label: "1:1 feed (MP4)", targets: [{ aspectRatio: "SQUARE_1_1", container: "MP4" }] },
  { testid: "export-webm", label: "16:9 WebM", targets: [{ aspectRatio: "LANDSCAPE_16_9", container: "WEBM" }] },
];

/** Bytes as the platforms publish them (500 MB = 500,000,000 bytes). */
function decimalBytes(n: number): string {
  const units: [number, string][] = [[1e9, "GB"], [1e6, "MB"], [1e3, "kB"]];
  for (const [size, unit] of units) if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  return `${n} B`;
}

/** A check's figure in its unit: max_bytes → MB, min_video_kbps → kbps, max_fps → fps … */
function figure(rule: string, value: number): string {
  if (rule.endsWith("_bytes")) return decimalBytes(value);
  if (rule.endsWith("_kbps")) return `${Math.round(value)} kbps`;
  if (rule.endsWith("_seconds")) return `${Number(value.toFixed(2))} s`;
  if (rule.endsWith("_fps")) return `${Number(value.toFixed(2))} fps`;
  return `${Math.round(value)} px`;
}

/** "min_video_kbps: 543 kbps ≥ 516 kbps" (max_fps is strict: below the cap). */
export function describeCheck(check: PlatformCheck): string {
  const op = check.rule === "max_fps" ? "<" : check.rule.startsWith("max_") ? "≤" : "≥";
  return `${check.rule}: ${figure(check.rule, check.actual)} ${op} ${figure(check.rule, check.limit)}`;
}

export function Exports({
  exports,
  platforms,
  videoSeconds,
  busy,
  onExport,
}: {
  exports: Export[];
  platforms: PlatformPreset[];
  /** The finished video's length: a platform whose range leaves it out is not offered. */
  videoSeconds: number | null;
  busy: boolean;
  onExport: (targets: ExportTargetInput[]) => void;
}) {
  const id = useId();
  const label = (platform: string | null | undefined) => platforms.find((p) => p.platform === platform)?.label ?? platform;
  return (
    <div className="card">
      <h2>Exports</h2>
      <div className="actions">
        {PRESETS.map((p) => (
          <button key={p.testid} type="button" data-testid={p.testid} disabled={busy} onClick={() => onExport(p.targets)}>
            {p.label}
          </button>
        ))}
      </div>
      {platforms.length ? (
        <>
          <h3 id={`${id}-platforms`}>For a platform</h3>
          <p className="muted" id={`${id}-platforms-hint`}>
            In the platform&apos;s ratio, checked against its rules on the file made.
          </p>
          <div className="actions" role="group" aria-labelledby={`${id}-platforms`} aria-describedby={`${id}-platforms-hint`}>
            {platforms.map((p) => {
              const { min, max } = durationRange(p);
              const fits = videoSeconds == null || (videoSeconds >= min - 0.05 && videoSeconds <= max + 0.05);
              return (
                <button
                  key={p.platform}
                  type="button"
                  className="secondary"
                  data-testid={`export-platform-${p.platform}`}
                  disabled={busy || !fits}
                  title={fits ? presetSummary(p) : `The video is ${videoSeconds?.toFixed(1)} s; ${p.label} takes ${min}–${max} s`}
                  onClick={() => onExport([{ platform: p.platform, container: "MP4" }])}
                >
                  {p.label} <span className="muted">({ASPECT_LABELS[p.aspectRatio]})</span>
                </button>
              );
            })}
          </div>
        </>
      ) : null}
      {exports.length ? (
        <ul className="exports" aria-live="polite">
          {exports.map((e) => (
            <li key={e.id} data-testid="export-row" data-status={e.status} data-container={e.container} data-platform={e.platform ?? ""}>
              <span>
                {e.platform ? <strong>{label(e.platform)} · </strong> : null}
                {e.container} · {ASPECT_LABELS[e.aspectRatio]} · {e.resolution.slice(1)} · {e.fit.toLowerCase()}
              </span>
              {e.status === "COMPLETED" && e.asset ? (
                <a href={e.asset.url} download={`reelforge-${e.id.slice(0, 8)}.${e.container.toLowerCase()}`} data-testid={`download-${e.container.toLowerCase()}`}>
                  Download ({formatBytes(e.asset.sizeBytes)})
                </a>
              ) : e.status === "FAILED" ? (
                <span className="warn">failed: {e.error}</span>
              ) : (
                <span className="muted">{e.status.toLowerCase()} {e.progress}%</span>
              )}
              {e.platformChecks?.length ? (
                <ul className="checks" data-testid="platform-checks" aria-label={`${label(e.platform) ?? "Platform"} checks`}>
                  {e.platformChecks.map((c) => (
                    <li
                      key={c.rule}
                      data-testid="platform-check"
                      data-rule={c.rule}
                      data-passed={String(c.passed)}
                      data-limit={c.limit}
                      data-actual={c.actual}
                      className={c.passed ? "ok" : "warn"}
                    >
                      <span aria-hidden="true">{c.passed ? "✓" : "✗"} </span>
                      <span className="visually-hidden">{c.passed ? "passed: " : "failed: "}</span>
                      {describeCheck(c)}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Other sizes and formats of the finished video.</p>
      )}
    </div>
  );
}
