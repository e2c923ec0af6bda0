"""Deployment settings, read from the environment so the dashboard and the CLI agree."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/kpi.duckdb"
DEFAULT_TZ = "Asia/Jakarta"
DEFAULT_LANG = "id"
SAMPLE_DIR = ROOT / "data" / "sample"


def db_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The store file: `--db` beats `KPI_DB`, which beats data/kpi.duckdb (relative to the cwd)."""
    return Path(override or os.environ.get("KPI_DB") or DEFAULT_DB)


def time_zone() -> str:
    """The deployment time zone: naive timestamps are local wall-clock time of this zone."""
    return os.environ.get("KPI_TZ", DEFAULT_TZ)


def local_now() -> dt.datetime:
    """Local wall-clock time of the deployment zone, naive and to the second (as the store keeps
    timestamps)."""
    return dt.datetime.now(ZoneInfo(time_zone())).replace(tzinfo=None, microsecond=0)


def default_language() -> str:
    """The language the dashboard starts in (`en` or `id`)."""
    lang = os.environ.get("KPI_LANG", DEFAULT_LANG)
    return lang if lang in ("en", "id") else DEFAULT_LANG


def city_name() -> str:
    """The government the dashboard serves, as printed on the review pack's cover."""
    return os.environ.get("KPI_CITY", "Pemerintah Kota Medan")


def busy_timeout() -> float:
    """Seconds the CLI waits for a store another process holds before giving up (StoreBusy)."""
    return float(os.environ.get("KPI_BUSY_TIMEOUT", "5"))


def keep_alive() -> float:
    """Seconds the dashboard keeps the store open after its last query (then a CLI import may run)."""
    return float(os.environ.get("KPI_KEEP_ALIVE", "2"))


def upload_limit_mb() -> int:
    """Largest file the Upload page accepts, in megabytes (also server.maxUploadSize)."""
    return int(os.environ.get("KPI_UPLOAD_LIMIT_MB", "200"))


def complete_share() -> float:
    """The share of units (of those that reported in the four periods before) that must have
    reported for a period to count as complete: the default period of the overview and the
    review is the latest complete one."""
    return float(os.environ.get("KPI_COMPLETE_SHARE", "0.8"))
