"""Loading declarative policy files: YAML validated with Pydantic, errors that name file, line and problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

RULES_DIR = Path(__file__).parent / "rules"
M = TypeVar("M", bound=BaseModel)


class RulesError(Exception):
    """A policy file is malformed; the message is ``file:line: what is wrong``."""


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping, so errors can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__lines__"] = {key.value: key.start_mark.line + 1 for key, _ in node.value}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping  # type: ignore[return-value]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_MARKS = ("__line__", "__lines__")


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest key of ``loc`` that the file has (a missing key: its parent's line)."""
    line = data.get("__line__") if isinstance(data, dict) else None
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node.get("__lines__", {}):
            line = node["__lines__"][part]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "__line__" in node and not isinstance(part, str):
            line = node["__line__"]
    return line if isinstance(line, int) else None


def _strip_lines(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip_lines(v) for k, v in data.items() if k not in _MARKS}
    if isinstance(data, list):
        return [_strip_lines(v) for v in data]
    return data


def load_rules(path: Path, model: type[M]) -> M:
    """Parse and validate one rules file into ``model``; RulesError names the file and line at fault."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (safe loader)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RulesError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    try:
        return model.model_validate(_strip_lines(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(raw, loc)
        where = f"{path}:{line}" if line else str(path)
        dotted = ".".join(str(p) for p in loc) or "(top)"
        raise RulesError(f"{where}: {dotted}: {err['msg']}") from None
