"""Typed FastAPI dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ndx.db import session_scope
from ndx.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """One platform-database session per request; services commit explicitly."""
    yield from session_scope(request.app.state.sessionmaker)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
