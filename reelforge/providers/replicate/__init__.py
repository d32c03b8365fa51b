"""Replicate: `http` (the API client, with the process's throttle gate from `throttle`),
`lifecycle` (one prediction from create to end), `outputs` (copying what it made) and
`provider` (the Provider interface on top)."""

from __future__ import annotations

from reelforge.providers.planning import parse_storyboard, plan_prompt
from reelforge.providers.replicate.http import ReplicateClient, ReplicateHTTPError
from reelforge.providers.replicate.provider import ReplicateProvider
from reelforge.providers.replicate.throttle import Throttle

__all__ = [
    "ReplicateClient",
    "ReplicateHTTPError",
    "ReplicateProvider",
    "Throttle",
    "parse_storyboard",
    "plan_prompt",
]
