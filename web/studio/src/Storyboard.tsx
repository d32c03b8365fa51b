import type { RefineSceneInput, Scene } from "@reelforge/client";
import { useId, useState } from "react";

export function Storyboard({
  scenes,
  editable,
  busy,
  onRefine,
}: {
  scenes: Scene[];
  editable: boolean;
  busy: boolean;
  onRefine: (index: number, input: RefineSceneInput) => void;
}) {
  if (!scenes.length) return null;
  const total = scenes.reduce((sum, s) => sum + s.duration, 0);
  return (
    <div className="card">
      <h2>
        Storyboard <span className="muted">({scenes.length} scenes, {total.toFixed(1)} s)</span>
      </h2>
      <ol className="scenes">
        {scenes.map((scene) => (
          <SceneCard key={scene.index} scene={scene} editable={editable} busy={busy} onRefine={onRefine} />
        ))}
      </ol>
    </div>
  );
}

function SceneCard({
  scene,
  editable,
  busy,
  onRefine,
}: {
  scene: Scene;
  editable: boolean;
  busy: boolean;
  onRefine: (index: number, input: RefineSceneInput) => void;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState(scene.imagePrompt);
  const [narration, setNarration] = useState(scene.narration);
  // Only what changed is sent: a new prompt makes a new still; a new line only a new voice-over.
  const change: RefineSceneInput = {
    ...(prompt.trim() && prompt.trim() !== scene.imagePrompt ? { imagePrompt: prompt.trim() } : {}),
    ...(narration.trim() !== scene.narration ? { narration: narration.trim() } : {}),
  };
  const changed = Object.keys(change).length > 0;
  return (
    <li className="scene" data-testid="scene-card" data-status={scene.status} data-duration={scene.duration} aria-label={`Scene ${scene.index + 1}`}>
      {scene.image ? (
        <img src={scene.image.url} alt={`Still of scene ${scene.index + 1}: ${scene.description}`} width={scene.image.width ?? undefined} height={scene.image.height ?? undefined} />
      ) : (
        <div className="placeholder" aria-hidden="true" />
      )}
      <div className="scene-body">
        <p className="scene-title">
          <strong>Scene {scene.index + 1}</strong> · {scene.duration.toFixed(1)} s ·{" "}
          <span className={`status s-${scene.status}`}>{scene.status.replace(/_/g, " ")}</span>
        </p>
        {scene.headline ? (
          <p className="headline" data-testid="scene-headline">
            <span className="visually-hidden">Headline: </span>
            {scene.headline}
          </p>
        ) : null}
        <p>{scene.description}</p>
        <p className="narration" data-testid="scene-narration">
          <span className="visually-hidden">Narration: </span>
          {scene.narration ? <q>{scene.narration}</q> : <span className="muted">No narration (silent)</span>}
        </p>
        {editable ? (
          open ? (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                if (!changed) return;
                onRefine(scene.index, change);
                setOpen(false);
              }}
            >
              <label htmlFor={`${id}-prompt`}>Image prompt</label>
              <textarea id={`${id}-prompt`} data-testid="refine-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
              <label htmlFor={`${id}-narration`}>Narration</label>
              <textarea
                id={`${id}-narration`}
                data-testid="refine-narration"
                rows={2}
                maxLength={500}
                value={narration}
                aria-describedby={`${id}-narration-hint`}
                onChange={(e) => setNarration(e.target.value)}
              />
              <p id={`${id}-narration-hint`} className="muted">
                The line spoken and captioned over this scene; empty for silence. A new line re-records only this
                scene&apos;s voice-over.
              </p>
              <div className="actions">
                <button type="submit" data-testid="refine-submit" disabled={busy || !changed}>
                  {change.imagePrompt !== undefined ? "Regenerate still" : "Update narration"}
                </button>
                <button type="button" className="secondary" onClick={() => setOpen(false)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <button
              type="button"
              className="secondary"
              data-testid="refine"
              onClick={() => {
                setPrompt(scene.imagePrompt);
                setNarration(scene.narration);
                setOpen(true);
              }}
              disabled={busy}
            >
              Refine scene
            </button>
          )
        ) : null}
      </div>
    </li>
  );
}
