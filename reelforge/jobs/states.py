"""The job state machine (DESIGN.md section 4): the only place that says which status may
follow which, and in which statuses a client may act on a job."""

from __future__ import annotations

from reelforge.errors import Conflict
from reelforge.models import JobStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.PENDING: frozenset({S.GENERATING_STORYBOARD, S.FAILED, S.CANCELED}),
    S.GENERATING_STORYBOARD: frozenset({S.STORYBOARD_COMPLETE, S.FAILED, S.CANCELED}),
    # refineScene regenerates a still: back to generating_storyboard, then complete again.
    S.STORYBOARD_COMPLETE: frozenset({S.GENERATING_STORYBOARD, S.RENDERING, S.FAILED, S.CANCELED}),
    S.RENDERING: frozenset({S.STITCHING, S.FAILED, S.CANCELED}),
    S.STITCHING: frozenset({S.COMPLETED, S.FAILED, S.CANCELED}),
    S.COMPLETED: frozenset({S.GENERATING_STORYBOARD}),
    # retryJob resumes the stage that failed.
    S.FAILED: frozenset({S.PENDING, S.RENDERING}),
    S.CANCELED: frozenset(),
}


def check_transition(current: S, target: S) -> None:
    if target not in ALLOWED[current]:
        raise Conflict(
            f"a job that is {current.value} cannot become {target.value}",
            status=current.name,
        )


_LIVE = frozenset(s for s in S if not s.is_terminal)

# What a client may ask of a job, by its status (the mutations check here, nowhere else).
ACTIONS: dict[str, tuple[frozenset[S], str]] = {
    "approve": (
        frozenset({S.STORYBOARD_COMPLETE}),
        "only a job whose storyboard is complete can be approved",
    ),
    "render": (
        frozenset({S.STORYBOARD_COMPLETE}),
        "only a job whose storyboard is complete can be rendered",
    ),
    "refine": (
        frozenset({S.STORYBOARD_COMPLETE, S.COMPLETED}),
        "scenes can be refined once the storyboard is complete",
    ),
    "cancel": (_LIVE, "only a job still in progress can be canceled"),
    "retry": (frozenset({S.FAILED}), "only a failed job can be retried"),
    "export": (frozenset({S.COMPLETED}), "only a completed job can be exported"),
}


def require(action: str, status: str) -> None:
    """CONFLICT, with the job's status, unless `action` is allowed in `status`."""
    allowed, rule = ACTIONS[action]
    current = S(status)
    if current not in allowed:
        raise Conflict(f"{rule} (this job is {current.value})", status=current.name)
