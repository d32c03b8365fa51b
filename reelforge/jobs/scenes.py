"""The storyboard as stored in `jobs.storyboard_data`: one entry per scene."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from reelforge.jobs.voiceover import fit_duration


@dataclass(frozen=True)
class Scene:
    index: int
    description: str
    image_prompt: str
    motion_prompt: str
    duration: float
    source_asset_id: str | None = None  # a client upload used instead of a generated still
    image_asset_id: str | None = None  # the scene's still (generated, or the upload)
    clip_asset_id: str | None = None  # the scene's clip, when rendered
    status: str = "pending"  # pending | ready | failed
    narration: str = ""  # the line spoken and captioned over the scene ("" for none)
    voice_asset_id: str | None = None  # the spoken narration, when rendered
    spoken_seconds: float | None = None  # how long the voice-over lasts, when rendered
    # When each word is heard, from the voice-over's start: [[text, start, end], ...]
    words: list[list[Any]] | None = None
    headline: str = ""  # drawn at the top of the scene ("" for none)

    @property
    def length(self) -> float:
        """How long the scene is in the video: `duration` (what its clip was asked for),
        lengthened when its narration needs more (the clip is then held longer, never
        bought again)."""
        return fit_duration(self.duration, self.narration, spoken=self.spoken_seconds)

    def with_(self, **changes: Any) -> Scene:
        return replace(self, **changes)


def load_scenes(data: dict[str, Any] | None) -> list[Scene]:
    names = {f.name for f in fields(Scene)}
    return [
        Scene(**{k: v for k, v in s.items() if k in names}) for s in (data or {}).get("scenes", [])
    ]


def dump_scenes(scenes: list[Scene]) -> dict[str, Any]:
    return {"scenes": [asdict(s) for s in sorted(scenes, key=lambda s: s.index)]}
