#!/bin/sh
# Container entrypoint of NDX: wait for the platform database, migrate it, then serve.
#
#   entrypoint.sh [ndx serve options...]     e.g. entrypoint.sh --workers 2
#
# Settings come from the environment (NDX_*, see the top-level README). Only for this script:
#   NDX_DB_WAIT_S   seconds to wait for the platform database to accept connections (default 60)
#   NDX_PYTHON      the Python interpreter that has NDX installed (default: python3 on PATH)
# Each expected failure prints one line "ndx-entrypoint: error: ..." (or the CLI's "error: ..." line) on
# standard error and exits non-zero: 2 for a bad setting, 1 when the database never comes up or migration
# fails. It runs the same way outside a container, as long as `ndx` and Python are on PATH.
set -eu

log() {
    printf 'ndx-entrypoint: %s\n' "$*" >&2
}

die() {
    code=$1
    shift
    printf 'ndx-entrypoint: error: %s\n' "$*" >&2
    exit "$code"
}

NDX_DB_WAIT_S=${NDX_DB_WAIT_S:-60}
case $NDX_DB_WAIT_S in
    '' | *[!0-9]*) die 2 "NDX_DB_WAIT_S: expected a whole number of seconds (got '$NDX_DB_WAIT_S')" ;;
esac
export NDX_DB_WAIT_S

PYTHON=${NDX_PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || die 2 "NDX_PYTHON: '$PYTHON' is not on PATH"
command -v ndx >/dev/null 2>&1 || die 2 "the 'ndx' command is not on PATH (is NDX installed in this environment?)"

# Validate every NDX_ setting first (one line naming the bad one), then wait until the platform database
# accepts connections. A file database (SQLite) has nothing to wait for.
"$PYTHON" -c '
import os
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ndx.settings import SettingsError, load_settings


def out(message: str) -> None:
    print(f"ndx-entrypoint: {message}", file=sys.stderr, flush=True)


try:
    settings = load_settings()
except SettingsError as exc:
    out(f"error: {exc}")
    sys.exit(2)

url = make_url(settings.platform_url)
shown = url.render_as_string(hide_password=True)
if url.get_backend_name() == "sqlite":
    out(f"platform database {shown} (a file: nothing to wait for)")
    sys.exit(0)

wait_s = int(os.environ["NDX_DB_WAIT_S"])
try:
    # libpq rounds a connect_timeout under 2 s up to 2 s; NullPool: every attempt is a fresh connection.
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": max(2, min(5, wait_s))})
except (ImportError, SQLAlchemyError) as exc:
    out(f"error: NDX_DATABASE_URL: cannot open {shown}: {exc} (use postgresql+psycopg://...)")
    sys.exit(2)

out(f"waiting up to {wait_s} s for the platform database {shown}")
deadline = time.monotonic() + wait_s
attempt = 0
while True:
    attempt += 1
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        last = next((line.strip() for line in str(orig).splitlines() if line.strip()), "no answer")
    else:
        out(f"platform database {shown} accepts connections (attempt {attempt})")
        sys.exit(0)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        attempts = f"{attempt} attempt" + ("" if attempt == 1 else "s")
        out(
            f"error: NDX_DATABASE_URL: platform database {shown} did not accept connections within {wait_s} s "
            f"({attempts}; last error: {last})"
        )
        sys.exit(1)
    time.sleep(min(1.0, remaining))
'

log "migrating the platform database (ndx db upgrade)"
ndx db upgrade

log "serving: ndx serve $*"
exec ndx serve "$@"
