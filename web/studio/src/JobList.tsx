import type { JobSummary, ReelforgeClient, ReelforgeError } from "@reelforge/client";
import { toReelforgeError } from "@reelforge/client";
import { useCallback, useEffect, useState } from "react";

const PAGE = 10;

export function JobList({
  client,
  version,
  currentId,
  onOpen,
}: {
  client: ReelforgeClient;
  /** Changes whenever the list may be out of date (a job created or moved on). */
  version: string;
  currentId: string | null;
  onOpen: (id: string) => void;
}) {
  const [items, setItems] = useState<JobSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<ReelforgeError | null>(null);

  const fetchPage = useCallback(
    async (after: string | null) => {
      try {
        const page = await client.jobs({ first: PAGE, after });
        return page;
      } catch (err) {
        setError(toReelforgeError(err));
        return null;
      }
    },
    [client],
  );

  useEffect(() => {
    let live = true;
    void fetchPage(null).then((page) => {
      if (!live || !page) return;
      setError(null);
      setItems(page.edges.map((e) => e.node));
      setCursor(page.pageInfo.endCursor ?? null);
      setMore(page.pageInfo.hasNextPage);
      setTotal(page.totalCount);
    });
    return () => {
      live = false;
    };
  }, [fetchPage, version]);

  return (
    <nav className="card" aria-label="Past jobs">
      <h2>
        Past jobs <span className="muted">({total})</span>
      </h2>
      {error ? (
        <p className="warn" data-testid="error">
          {error.code}: {error.message}
        </p>
      ) : null}
      <ul className="jobs" data-testid="job-list">
        {items.map((job) => (
          <li key={job.id}>
            <button
              type="button"
              className={`link${job.id === currentId ? " current" : ""}`}
              aria-current={job.id === currentId ? "true" : undefined}
              onClick={() => onOpen(job.id)}
            >
              {job.thumbnail ? <img src={job.thumbnail.url} alt="" width={48} height={27} /> : null}
              <span className="job-brief">{job.brief}</span>
              <span className="muted">{job.status.toLowerCase()}</span>
            </button>
          </li>
        ))}
      </ul>
      {more ? (
        <button
          type="button"
          className="secondary"
          data-testid="jobs-more"
          onClick={() =>
            void fetchPage(cursor).then((page) => {
              if (!page) return;
              setItems((list) => [...list, ...page.edges.map((e) => e.node)]);
              setCursor(page.pageInfo.endCursor ?? null);
              setMore(page.pageInfo.hasNextPage);
            })
          }
        >
          Load more
        </button>
      ) : null}
    </nav>
  );
}
