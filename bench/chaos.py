"""Benchmark: N jobs under a SIGKILL loop on random worker processes. Does every job complete,
is every piece of work paid exactly once, and does what the jobs say they cost equal what the
provider billed?

Real processes (tests/chaos/harness.py): a private Valkey, the fake Replicate as a standalone
server (the witness: it counts every create and prices every prediction the way Replicate
bills), `reelforge serve` without its in-process worker, and `--workers` `reelforge worker`s
on one database (a SQLite file, or `--database-url`). Every `--kill-min`..`--kill-max`
seconds a random worker is SIGKILLed and started again; creates answer slowly
(`--create-latency`), so kills land between a create reaching the provider and its answer
being recorded. Each job is approved and rendered as soon as its storyboard is ready.
With `--max-kills` the loop stops after that many SIGKILLs; with `--at-creates` it waits,
after each pause, for a create to reach the fake and kills every worker before its answer
is back, so each round of kills cuts a paid call short (found again at the provider and
adopted, never created twice).

Printed:
- completed jobs out of N (target: all);
- creates at the fake by kind against the work there is (N plans, N x scenes stills and
  clips), and the pieces of work paid more than once (same model and input created twice;
  target: 0);
- sum(actualCost) of the jobs against what the fake billed, and their ratio (target: 1.000).

The baseline is the work itself: each piece created once, billed once.

    python bench/chaos.py [--jobs 20] [--scenes 3] [--workers 3] [--kill-min 3] [--kill-max 7]
                          [--max-kills N] [--at-creates] [--create-latency 1.0] [--latency 0.5]
                          [--timeout 900]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.chaos.harness import Cluster  # noqa: E402

TERMINAL = ("COMPLETED", "FAILED", "CANCELED")
SETTLED = ("succeeded", "failed", "canceled", "aborted")  # a prediction's end at the fake


@dataclass
class Report:
    jobs: int
    scenes: int
    completed: int
    failed: list[str]
    creates: Counter[str]
    paid_twice: int
    actual_cost: float
    billed: float
    kills: int
    cut_creates: int
    adopted: int
    seconds: float

    @property
    def ratio(self) -> float:
        return self.actual_cost / self.billed if self.billed else 1.0

    @property
    def expected(self) -> dict[str, int]:
        return {
            "plan": self.jobs,
            "image": self.jobs * self.scenes,
            "video": self.jobs * self.scenes,
        }

    def lines(self) -> list[str]:
        creates = ", ".join(
            f"{kind} {self.creates.get(kind, 0)}/{want}" for kind, want in self.expected.items()
        )
        return [
            f"completed: {self.completed}/{self.jobs} jobs in {self.seconds:.0f} s "
            f"({self.kills} worker SIGKILLs)",
            f"creates cut short by a kill: {self.cut_creates}; "
            f"adopted after a lost answer: {self.adopted}",
            f"creates at the fake (made/work): {creates}",
            f"paid more than once: {self.paid_twice} pieces of work",
            f"sum(actualCost) ${self.actual_cost:.4f} vs billed ${self.billed:.4f}: "
            f"ratio {self.ratio:.3f}",
            *(f"failed: {line}" for line in self.failed),
        ]


def drive(
    cluster: Cluster,
    *,
    jobs: int,
    scenes: int,
    kill_every: tuple[float, float],
    timeout: float,
    seed: int = 0,
    max_kills: int | None = None,
    at_creates: bool = False,
    poll: float = 0.5,
) -> Report:
    """Create `jobs`, kill workers until every job ended (or `timeout`), report.

    Every `kill_every` seconds (a random pause in that range) a random worker is SIGKILLed
    and started again, until `max_kills` SIGKILLs (None: no limit). With `at_creates`, a
    round of kills waits for a create to reach the fake (the first round from the start,
    each later one after its pause) and kills every worker before that create's answer is
    back, so that it always lands between a paid call and its recorded answer (the fake
    answers creates after `cluster.fake_create_latency`, which must then be set). The cut
    create is adopted when its task runs again, not created anew, so each round lands on a
    later piece of work: the first round on the first plan, so that a job has work left for
    the rounds after it (its stills, its render). The jobs are read every `poll` seconds."""
    assert not at_creates or cluster.fake_create_latency > 0, "at_creates needs a create latency"
    rng = random.Random(seed)
    started = time.monotonic()
    watched_from = datetime.now(UTC)  # every create after this is one to kill at
    ids = [cluster.create_job(scenes=scenes, brief=f"Trail shoes no. {n}.") for n in range(jobs)]
    stop = threading.Event()
    kills = 0
    cut_creates = 0

    def budget_left() -> bool:
        return max_kills is None or kills < max_kills

    def create_in_flight(since: datetime) -> bool:
        """Wait until a create that reached the fake after `since` is still waiting for its
        answer; False when told to stop first."""
        window = cluster.fake_create_latency / 2  # time left to kill before the answer
        while not stop.is_set():
            try:
                fresh = cluster.predictions(created_after=since)
            except httpx.HTTPError:
                fresh = []
            now = datetime.now(UTC)
            if any(
                (now - datetime.fromisoformat(p["created_at"])).total_seconds() < window
                for p in fresh
            ):
                return True
            if fresh:  # seen too late (a slow poll): wait for the next one
                since = now
            stop.wait(0.05)
        return False

    def killer() -> None:
        nonlocal kills, cut_creates
        while budget_left():
            first_round = kills == 0 and at_creates
            if stop.wait(0 if first_round else rng.uniform(*kill_every)):
                return
            if at_creates:
                if not create_in_flight(watched_from if first_round else datetime.now(UTC)):
                    return
                targets = [i for i, w in enumerate(cluster.workers) if w is not None]
                cut_creates += 1
            else:
                targets = [rng.randrange(len(cluster.workers))]
            for index in targets:
                if cluster.workers[index] is None or not budget_left():
                    continue
                cluster.kill_worker(index)
                kills += 1
            for index in targets:
                if cluster.workers[index] is None:
                    cluster.start_worker(index)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    rendering: set[str] = set()
    final: dict[str, dict[str, object]] = {}
    try:
        while len(final) < len(ids) and time.monotonic() - started < timeout:
            for job_id in ids:
                if job_id in final:
                    continue
                try:
                    job = cluster.job(job_id)
                except Exception:  # the API is busy or restarting: ask again
                    continue
                if job["status"] in TERMINAL:
                    final[job_id] = job
                elif job["status"] == "STORYBOARD_COMPLETE" and job_id not in rendering:
                    cluster.mutate("approveStoryboard", job_id)
                    cluster.mutate("renderVideo", job_id)
                    rendering.add(job_id)
            time.sleep(poll)
    finally:
        stop.set()
        thread.join()
    # Let the workers settle what they still hold (a few seconds at most: every prediction
    # at the fake ended), then read every job's bill.
    deadline = time.monotonic() + 3
    predictions = cluster.predictions()
    while time.monotonic() < deadline and any(p["status"] not in SETTLED for p in predictions):
        time.sleep(0.2)
        predictions = cluster.predictions()
    jobs_now = [cluster.job(job_id) for job_id in ids]
    works = Counter(
        (p["model"], json.dumps(p.get("input") or {}, sort_keys=True)) for p in predictions
    )
    return Report(
        jobs=jobs,
        scenes=scenes,
        completed=sum(1 for j in jobs_now if j["status"] == "COMPLETED"),
        failed=[
            f"{j['id']} {j['status']}: {j['errorMessage']}"
            for j in jobs_now
            if j["status"] != "COMPLETED"
        ],
        creates=cluster.creates(),
        paid_twice=sum(1 for count in works.values() if count > 1),
        actual_cost=round(sum(float(j["actualCost"] or 0.0) for j in jobs_now), 6),
        billed=cluster.billed(),
        kills=kills,
        cut_creates=cut_creates,
        adopted=sum(
            cluster.log_text(f"worker{i}").count('"prediction.adopted"')
            for i in range(len(cluster.workers))
        ),
        seconds=time.monotonic() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kill-min", type=float, default=3.0)
    parser.add_argument("--kill-max", type=float, default=7.0)
    parser.add_argument("--max-kills", type=int, default=None, help="default: no limit")
    parser.add_argument(
        "--at-creates",
        action="store_true",
        help="after each pause, kill every worker while a create waits for its answer",
    )
    parser.add_argument("--latency", type=float, default=0.5, help="fake prediction seconds")
    parser.add_argument("--create-latency", type=float, default=1.0, help="fake create seconds")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reelforge-chaos-"))
    cluster = Cluster(
        root,
        database_url=args.database_url,
        fake_latency=args.latency,
        fake_create_latency=args.create_latency,
    )
    try:
        cluster.start(embedded_worker=False, workers=args.workers)
        report = drive(
            cluster,
            jobs=args.jobs,
            scenes=args.scenes,
            kill_every=(args.kill_min, args.kill_max),
            timeout=args.timeout,
            max_kills=args.max_kills,
            at_creates=args.at_creates,
        )
    finally:
        cluster.close()
    print(
        f"chaos: {args.jobs} jobs x {args.scenes} scenes, {args.workers} workers, SIGKILL every "
        f"{args.kill_min:g}-{args.kill_max:g} s, creates answering after {args.create_latency:g} s"
    )
    for line in report.lines():
        print("  " + line)
    print(f"  logs: {root / 'logs'}")
    ok = report.completed == report.jobs and report.paid_twice == 0
    ok = ok and abs(report.actual_cost - report.billed) < 1e-6
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
