"""The container files' structure, checked without a Docker engine: compose.yaml, the Dockerfile, .dockerignore."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def with_defaults(value: str) -> str:
    """What compose would use with an empty environment: ``${VAR:-default}`` becomes ``default``."""
    return _VARIABLE.sub(lambda m: m.group("default") or "", value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {key: with_defaults(str(value)) for key, value in env.items()}


def test_three_services(services: dict[str, Any]) -> None:
    assert set(services) == {"db", "redis", "app"}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_app_waits_for_healthy_db_and_redis(services: dict[str, Any]) -> None:
    depends = services["app"]["depends_on"]
    assert isinstance(depends, dict), "depends_on must use the long form to carry a condition"
    for name in ("db", "redis"):
        assert depends[name]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["db", "redis", "app"])
def test_every_service_has_a_healthcheck(services: dict[str, Any], name: str) -> None:
    check = services[name]["healthcheck"]
    assert not check.get("disable", False)
    test = check["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1
    command = " ".join(test[1:])
    expected = {"db": "pg_isready", "redis": "redis-cli ping", "app": "/healthz"}[name]
    assert expected in command


def test_app_environment_points_at_the_services(services: dict[str, Any]) -> None:
    env = environment(services["app"])
    db_url = make_url(env["NDX_DATABASE_URL"])
    assert db_url.drivername == "postgresql+psycopg"
    assert db_url.host == "db"
    assert db_url.port in (None, 5432)
    db_env = environment(services["db"])
    assert db_url.username == db_env["POSTGRES_USER"]
    assert db_url.password == db_env["POSTGRES_PASSWORD"]
    assert db_url.database == db_env["POSTGRES_DB"]
    assert re.fullmatch(r"redis://redis(:6379)?/\d+", env["NDX_REDIS_URL"])
    for source in ("POPULATION", "INSURANCE", "LAND", "ENTERPRISE"):
        assert f"NDX_SOURCE_{source}" in env


def test_app_settings_are_valid(services: dict[str, Any]) -> None:
    """The app's environment, with compose's defaults, passes NDX's own settings validation."""
    from ndx.settings import load_settings

    env = environment(services["app"])
    fields = {key.removeprefix("NDX_").lower(): value for key, value in env.items() if key.startswith("NDX_")}
    settings = load_settings(**fields)
    assert settings.platform_url == env["NDX_DATABASE_URL"]


def test_app_builds_from_the_dockerfile_and_serves_port_8000(services: dict[str, Any]) -> None:
    app = services["app"]
    context = (DOCKER / app["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / app["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert DOCKERFILE.is_file()
    assert any(with_defaults(str(port)).endswith(":8000") for port in app["ports"])


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = {
        str(volume).split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if not str(volume).startswith((".", "/", "~"))
    }
    assert used, "the database needs a named volume"
    assert used <= declared
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])


# --- the Dockerfile ----------------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return result


def runtime_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    froms = [args for keyword, args in instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    arg_defaults = dict(args.split("=", 1) for keyword, args in instructions() if keyword == "ARG" and "=" in args)
    images = {re.sub(r"\$\{(\w+)\}", lambda m: arg_defaults[m.group(1)], f.split()[0]) for f in froms}
    assert images == {"python:3.11-slim"}
    assert any("--from=" in args for keyword, args in runtime_stage() if keyword == "COPY")


def test_runtime_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in runtime_stage() if keyword == "USER"]
    assert users, "the runtime stage must switch to an unprivileged USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_healthcheck_entrypoint_and_port() -> None:
    steps = dict(runtime_stage())
    assert "/healthz" in steps["HEALTHCHECK"] and "python" in steps["HEALTHCHECK"]
    assert "curl" not in steps["HEALTHCHECK"]
    assert "entrypoint.sh" in steps["ENTRYPOINT"]
    assert steps["EXPOSE"].split() == ["8000"]
    env = " ".join(args for keyword, args in runtime_stage() if keyword == "ENV")
    assert "NDX_HOST=0.0.0.0" in env.split()


def test_no_dev_extras_installed() -> None:
    for keyword, args in instructions():
        if keyword == "RUN":
            assert not re.search(r"\[[^\]]*\bdev\b[^\]]*\]", args), args
            assert "-e " not in args and "--editable" not in args, args


def copy_sources() -> list[str]:
    sources: list[str] = []
    for keyword, args in instructions():
        if keyword not in {"COPY", "ADD"}:
            continue
        words = [w for w in shlex.split(args) if not w.startswith("--")]
        if any(w.startswith("--from=") for w in shlex.split(args)):
            continue  # copied from another stage, not from the build context
        sources.extend(words[:-1])
    return sources


def test_every_copied_file_exists_and_is_not_dockerignored() -> None:
    sources = copy_sources()
    assert "docker/entrypoint.sh" in sources
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        parts = Path(source).parts
        assert not any("/".join(parts[: i + 1]) in ignored for i in range(len(parts))), f"{source} is dockerignored"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert {".venv", "var", ".git"} <= ignored


def test_entrypoint_is_posix_sh() -> None:
    text = (DOCKER / "entrypoint.sh").read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    assert "set -eu" in text
    assert 'exec ndx serve "$@"' in text
