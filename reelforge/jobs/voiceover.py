"""Where narration sits in a scene, and how long a scene must be to hold it.

A line starts `NARRATION_LEAD` seconds into its scene (a cut is seen before a word is
heard) and the scene goes on `NARRATION_TAIL` seconds after it (a breath before the next
cut). Planned and refined scenes are made at least that long from the speaking rate; the
render extends a scene whose real voice-over came out longer than planned.
"""

from __future__ import annotations

import math

from reelforge.providers.base import speaking_seconds

NARRATION_LEAD = 0.3
NARRATION_TAIL = 0.5


def min_scene_seconds(narration: str, *, spoken: float | None = None) -> float:
    """The shortest scene that holds `narration` (its measured length `spoken`, if known)."""
    if not narration.strip():
        return 0.0
    length = spoken if spoken is not None else speaking_seconds(narration)
    return math.ceil((NARRATION_LEAD + length + NARRATION_TAIL) * 10) / 10


def fit_duration(duration: float, narration: str, *, spoken: float | None = None) -> float:
    """`duration`, lengthened (to 0.1 s) when the narration would not fit in it."""
    return max(duration, min_scene_seconds(narration, spoken=spoken))
