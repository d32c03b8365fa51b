"""Every Prometheus metric of Reelforge, defined once. Labels stay bounded: stage, status,
model, reason, operation name; never a job, client or asset id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Generation
VIDEO_GEN_DURATION = Histogram(
    "video_gen_duration_seconds",
    "Wall time of one pipeline stage of a job (storyboard, render, export)",
    ["stage"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600),
)
JOB_FAILURES = Counter(
    "job_failures_total", "Jobs that ended failed, by stage and reason", ["stage", "reason"]
)
JOBS_FINISHED = Counter(
    "jobs_finished_total", "Jobs reaching a terminal or gate state, by status", ["status"]
)
JOBS_CREATED = Counter("jobs_created_total", "Jobs created through the API")
STORYBOARDS_APPROVED = Counter("storyboards_approved_total", "Storyboards approved by a person")
COST_ACTUAL = Counter(
    "cost_actual_dollars", "Money spent on paid predictions, in US dollars", ["model"]
)
PREDICTIONS = Counter(
    "predictions_total",
    "Predictions by kind and outcome (created, reused, succeeded, failed, canceled)",
    ["kind", "outcome"],
)
OUTPUTS_EXPIRED = Counter(
    "provider_outputs_expired_total",
    "Paid predictions whose output the provider removed before it was saved, by kind and what "
    "was done (regenerated: paid again, visibly)",
    ["kind", "action"],
)
REPLICATE_API_ERRORS = Counter(
    "replicate_api_errors_total",
    "Failed Replicate API calls, by HTTP status (or 'network')",
    ["status"],
)
JOBS_BY_STATUS = Gauge("jobs_by_status", "Jobs currently in each status", ["status"])
STUCK_JOBS = Gauge("stuck_jobs", "Non-terminal jobs without progress for longer than allowed")
QUEUE_DEPTH = Gauge("queue_depth", "Tasks waiting in the arq queue")

# API
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route template, method and status class",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
GRAPHQL_OPERATION_DURATION = Histogram(
    "graphql_operation_duration_seconds",
    "GraphQL operation latency by operation type and outcome",
    ["operation_type", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL_ERRORS = Counter("graphql_errors_total", "GraphQL errors by code", ["code"])
CACHE_REQUESTS = Counter("cache_requests_total", "Job cache lookups by result", ["result"])
UPLOAD_BYTES = Counter("upload_bytes_total", "Bytes accepted through uploads")
UPLOADS = Counter(
    "uploads_total", "Upload attempts by outcome (accepted or an error code)", ["outcome"]
)
ACTIVE_SUBSCRIPTIONS = Gauge("graphql_active_subscriptions", "Open jobProgress subscriptions")
GRAPHQL_OPERATIONS_WAITING = Gauge(
    "graphql_operations_waiting",
    "Operations waiting for a turn to run (all OPERATION_CONCURRENCY slots busy)",
)

# Outgoing webhooks
WEBHOOK_DELIVERIES = Counter(
    "webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, http_error, timeout, network_error, blocked)",
    ["outcome"],
)
WEBHOOK_DELIVERY_DURATION = Histogram(
    "webhook_delivery_duration_seconds",
    "Time from the start of a webhook attempt to the receiver's answer (or the failure)",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "webhook_endpoints_disabled_total", "Webhook endpoints disabled after failing for days"
)
WEBHOOKS_PENDING = Gauge(
    "webhook_deliveries_pending", "Webhook deliveries not yet delivered nor given up"
)
