import { useId, useState } from "react";

export function TokenPanel({ token, onSave }: { token: string; onSave: (token: string) => void }) {
  const [draft, setDraft] = useState(token);
  const id = useId();
  return (
    <form
      className="card"
      onSubmit={(event) => {
        event.preventDefault();
        onSave(draft.trim().replace(/^Bearer\s+/i, ""));
      }}
    >
      <h2>API token</h2>
      <label htmlFor={id}>Bearer token (JWT)</label>
      <input
        id={id}
        data-testid="token-input"
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        placeholder="eyJhbGciOi…"
        aria-describedby={`${id}-hint`}
      />
      <p id={`${id}-hint`} className="muted">
        In development, <code>reelforge serve</code> prints a ready token when it starts (the
        <code> Token:</code> line); <code>reelforge token --client … --user …</code> mints another.
        It is kept for this tab only.
      </p>
      <button type="submit" data-testid="token-save">
        {token ? "Use this token" : "Save token"}
      </button>
      {token ? <span className="ok"> Token set.</span> : null}
    </form>
  );
}
