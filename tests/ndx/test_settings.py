from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndx import server
from ndx.cli import app as cli
from ndx.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_follow_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.platform_url == f"sqlite:///{tmp_path / 'platform.db'}"
    assert settings.source_urls() == {
        name: f"sqlite:///{tmp_path / 'sources' / (name + '.db')}"
        for name in ("population", "insurance", "land", "enterprise")
    }


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NDX_SOURCE_LAND", "postgresql+psycopg://u@h/land")
    monkeypatch.setenv("NDX_PORT", "9001")
    settings = load_settings()
    assert settings.source_urls()["land"] == "postgresql+psycopg://u@h/land"
    assert settings.port == 9001


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("NDX_PORT", "eighty", "NDX_PORT"),
        ("NDX_PORT", "70000", "NDX_PORT"),
        ("NDX_DATABASE_URL", "not a url", "NDX_DATABASE_URL"),
        ("NDX_SOURCE_POPULATION", "mysql://x/y", "NDX_SOURCE_POPULATION"),
        ("NDX_LOG_LEVEL", "loud", "NDX_LOG_LEVEL"),
        ("NDX_SOURCE_TIMEOUT_S", "-1", "NDX_SOURCE_TIMEOUT_S"),
    ],
)
def test_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{named}:")
    assert "\n" not in message


def test_cli_bad_setting_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {"NDX_PORT": "abc", "NDX_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "ndx", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "NDX_PORT" in lines[0]


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(NDX_[A-Z_]+)`", readme))
    for name, field in Settings.model_fields.items():
        env = f"NDX_{name.upper()}"
        assert env in documented, f"{env} is not in the README's settings table"
        assert field.description, f"{name} has no description"


@pytest.mark.parametrize(("redis", "warned"), [(None, True), ("redis://127.0.0.1:6379/0", False)])
def test_serve_with_several_workers_warns_when_counters_are_not_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis: str | None, warned: bool
) -> None:
    served: list[int] = []
    monkeypatch.setattr(server, "serve", lambda settings, *, host, port, workers: served.append(workers))
    monkeypatch.setenv("NDX_DATA_DIR", str(tmp_path))
    if redis:
        monkeypatch.setenv("NDX_REDIS_URL", redis)
    else:
        monkeypatch.delenv("NDX_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert served == [2]
    assert ("NDX_REDIS_URL is not set" in result.output) is warned
