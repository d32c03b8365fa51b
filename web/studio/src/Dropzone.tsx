import type { UploadProgress } from "@reelforge/client/react";
import { useId, useRef, useState } from "react";

import { formatBytes } from "./format";

// Stills and clips for the scenes; audio tracks for the music bed.
const ACCEPT = "image/jpeg,image/png,video/mp4,video/quicktime,audio/mpeg,audio/wav,audio/x-wav,audio/mp4,audio/x-m4a,.mp3,.wav,.m4a";

export function Dropzone({
  uploads,
  onFile,
  disabled,
  accept = ACCEPT,
  multiple = true,
  prompt = "Drop product shots, clips or a music track here, or press to choose files",
  hint = "jpg, png, mp4 or mov for the scenes; mp3, wav or m4a for the music; up to 50 MB each, checked by content.",
  testid = "dropzone",
  inputTestid = "upload-input",
  listLabel = "Uploads",
}: {
  uploads: UploadProgress[];
  onFile: (file: File) => void;
  disabled: boolean;
  /** The file input's accept list (the service checks the content either way). */
  accept?: string;
  multiple?: boolean;
  prompt?: string;
  hint?: string;
  testid?: string;
  inputTestid?: string;
  listLabel?: string;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const take = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) onFile(file);
  };
  return (
    <div className="uploads">
      <div
        className={`drop${over ? " over" : ""}${disabled ? " disabled" : ""}`}
        data-testid={testid}
        role="button"
        tabIndex={disabled ? -1 : 0}
        aria-disabled={disabled}
        aria-describedby={`${id}-hint`}
        onClick={() => !disabled && input.current?.click()}
        onKeyDown={(event) => {
          if (!disabled && (event.key === "Enter" || event.key === " ")) {
            event.preventDefault();
            input.current?.click();
          }
        }}
        onDragOver={(event) => {
          event.preventDefault();
          if (!disabled) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(event) => {
          event.preventDefault();
          setOver(false);
          if (!disabled) take(event.dataTransfer.files);
        }}
      >
        {prompt}
      </div>
      <p id={`${id}-hint`} className="muted">
        {hint}
      </p>
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple={multiple}
        hidden
        data-testid={inputTestid}
        onChange={(event) => {
          take(event.target.files);
          event.target.value = "";
        }}
      />
      {uploads.length ? (
        <ul className="upload-list" aria-label={listLabel}>
          {uploads.map((u) => (
            <li key={u.id}>
              <span className="name">{u.name}</span>
              <progress max={u.total || 1} value={u.sent} aria-label={`Upload of ${u.name}`} />
              <span className="muted">
                {u.error ? `${u.error.code}` : u.asset ? "ready" : `${formatBytes(u.sent)} / ${formatBytes(u.total)}`}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
