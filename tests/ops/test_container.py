"""The Dockerfile and compose.yaml agree with the project; the image is built when a Docker
engine is reachable (skipped with the reason otherwise)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.ops.healthcheck import health_url

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [
        line.split(None, 1)[1].strip()
        for line in joined.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]


def test_the_image_is_slim_python_matching_the_project() -> None:
    [base] = _instructions("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim", base)
    assert match, base
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    minimum = re.search(r"(\d+)\.(\d+)", project["project"]["requires-python"])
    assert minimum is not None
    assert (int(match[1]), int(match[2])) >= (int(minimum[1]), int(minimum[2]))


def test_the_package_is_installed_and_runs_as_a_non_root_user() -> None:
    for copy in _instructions("COPY"):
        *sources, _target = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY of a missing {source}"
    copied = {Path(c.split()[0]).name for c in _instructions("COPY")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied
    assert any(re.search(r"pip install /src\b", run) for run in _instructions("RUN"))
    [user] = _instructions("USER")
    assert user not in {"root", "0"}
    assert "--uid 10001 --gid bot" in DOCKERFILE and user == "bot"
    assert _instructions("CMD") == ['["python", "-m", "bot"]']


def test_the_data_volume_holds_the_default_sqlite_database() -> None:
    [workdir] = _instructions("WORKDIR")
    volumes = _instructions("VOLUME")
    assert volumes == ['["/app/data"]']
    default = Settings.model_fields["database_url"].default
    relative = default.split("///", 1)[1]
    assert str(Path(workdir) / relative).startswith("/app/data/")


def test_the_health_check_asks_the_metrics_port() -> None:
    ports = " ".join(_instructions("EXPOSE")).split()
    env = dict(item.split("=", 1) for item in " ".join(_instructions("ENV")).split() if "=" in item)
    assert env["METRICS_PORT"] in ports
    assert health_url(env) == f"http://127.0.0.1:{env['METRICS_PORT']}/healthz"
    assert "bot.ops.healthcheck" in _instructions("HEALTHCHECK")[0]


def test_compose_runs_the_bot_with_postgres_and_redis() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"bot", "postgres", "redis"}
    bot = services["bot"]
    assert bot["build"] == "."
    assert set(bot["depends_on"]) == {"postgres", "redis"}
    env = {
        key: str(value).replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", "secret")
        for key, value in bot["environment"].items()
    }
    settings = Settings.model_validate(
        {"bot_token": "1:x", **{k.lower(): v for k, v in env.items()}}
    )
    assert settings.database_url.startswith("postgresql+asyncpg://bot:secret@postgres:5432/")
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.metrics_port is not None
    assert f"{settings.metrics_port}:{settings.metrics_port}" in bot["ports"][0]
    assert "bot-data:/app/data" in bot["volumes"]
    pg = services["postgres"]["environment"]
    assert settings.database_url.endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
    assert pg["POSTGRES_USER"] == "bot"
    assert set(COMPOSE["volumes"]) >= {"bot-data", "postgres-data"}


def test_the_readme_explains_production() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Run it in production" in readme
    assert "docker compose up -d" in readme


def _docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    probe = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout).strip().splitlines()
        return f"no Docker engine reachable ({reason[-1] if reason else 'docker info failed'})"
    return None


@pytest.mark.process
def test_the_image_builds_and_runs_as_bot() -> None:
    reason = _docker_unavailable()
    if reason is not None:
        pytest.skip(reason)
    tag = "support-desk-bot:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    try:
        result = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                tag,
                "python",
                "-c",
                "import os, bot.app, storage.migrate; print(os.getuid(), os.getcwd())",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        assert result.stdout.split() == ["10001", "/app"]
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
