"""The storyboard as stored in `jobs.storyboard_data`: one entry per scene."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


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

    def with_(self, **changes: Any) -> Scene:
        return replace(self, **changes)


def load_scenes(data: dict[str, Any] | None) -> list[Scene]:
    names = {f.name for f in fields(Scene)}
    return [
        Scene(**{k: v for k, v in s.items() if k in names}) for s in (data or {}).get("scenes", [])
    ]


def dump_scenes(scenes: list[Scene]) -> dict[str, Any]:
    return {"scenes": [asdict(s) for s in sorted(scenes, key=lambda s: s.index)]}
