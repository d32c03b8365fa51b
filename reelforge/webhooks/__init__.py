"""Outgoing webhooks: a client's endpoints, the Standard Webhooks signature, and the
delivery of job events (recorded with the change that causes them, sent by the workers,
retried with backoff). Inbound Replicate webhooks live in `reelforge.providers.webhooks`
and verify with the same `signing` module."""
