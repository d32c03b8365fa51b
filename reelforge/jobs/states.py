"""The job state machine (DESIGN.md section 4): the only place that says which status may
follow which."""

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
