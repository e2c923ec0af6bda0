"""Deployment settings, read from the environment so the dashboard and the CLI agree."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/kpi"
DEFAULT_TZ = "Asia/Jakarta"
DEFAULT_LANG = "id"
SAMPLE_DIR = ROOT / "data" / "sample"


def store_location(override: str | os.PathLike[str] | None = None) -> str:
    """The store: `--db` beats `KPI_DB`, which beats the folder data/kpi (relative to the cwd).
    A folder is the embedded store; `postgresql://…` a shared catalog (see kpi/store.py)."""
    return os.fspath(override or os.environ.get("KPI_DB") or DEFAULT_DB)


def data_path() -> str | None:
    """Where a PostgreSQL-catalogued store keeps its Parquet files: a folder or s3://bucket/prefix
    (`KPI_DATA_PATH`; read when the store is created)."""
    return os.environ.get("KPI_DATA_PATH") or None


def time_zone() -> str:
    """The deployment time zone: naive timestamps are local wall-clock time of this zone."""
    return os.environ.get("KPI_TZ", DEFAULT_TZ)


def local_now() -> dt.datetime:
    """Local wall-clock time of the deployment zone, naive and to the second (as the store keeps
    timestamps)."""
    return dt.datetime.now(ZoneInfo(time_zone())).replace(tzinfo=None, microsecond=0)


def local_today() -> dt.date:
    """Today in the deployment zone (`KPI_TZ`), not the server's day."""
    return local_now().date()


def default_language() -> str:
    """The language the dashboard starts in (`en` or `id`)."""
    lang = os.environ.get("KPI_LANG", DEFAULT_LANG)
    return lang if lang in ("en", "id") else DEFAULT_LANG


def city_name() -> str:
    """The government the dashboard serves, as printed on the review pack's cover."""
    return os.environ.get("KPI_CITY", "Pemerintah Kota Medan")


def busy_timeout() -> float:
    """Seconds a write waits for another write to finish before giving up (StoreBusy)."""
    return float(os.environ.get("KPI_BUSY_TIMEOUT", "60"))


def memory_limit() -> str | None:
    """DuckDB's memory limit in each Kinerja process ("8GB"); None: DuckDB's default, 80 % of
    the machine's memory, which a server running dashboards and imports side by side can
    exceed (a 10^8-event backfill reached 20 GB on a 24 GB machine and was killed by the
    kernel, bench/README.md). Past the limit DuckDB works on disk instead."""
    return os.environ.get("KPI_MEMORY_LIMIT") or None


def keep_snapshots_days() -> float:
    """`maintain` expires lake snapshots older than this (finalised reviews' are kept)."""
    return float(os.environ.get("KPI_KEEP_SNAPSHOTS_DAYS", "30"))


def upload_limit_mb() -> int:
    """Largest file the Upload page accepts, in megabytes (also server.maxUploadSize)."""
    return int(os.environ.get("KPI_UPLOAD_LIMIT_MB", "200"))


def complete_share() -> float:
    """The share of units (of those that reported in the four periods before) that must have
    reported for a period to count as complete: the default period of the overview and the
    review is the latest complete one."""
    return float(os.environ.get("KPI_COMPLETE_SHARE", "0.8"))


def chart_cache_dir() -> Path:
    """Where rendered chart images are kept, named by a digest of the figure (KPI_CACHE_DIR,
    default kinerja-cache/charts in the system's temporary folder): shared by the dashboard and
    the CLI, so a chart whose data did not change is rendered once."""
    base = os.environ.get("KPI_CACHE_DIR") or Path(tempfile.gettempdir()) / "kinerja-cache"
    return Path(base) / "charts"


def warm_up() -> bool:
    """Whether the dashboard warms its caches in the background at start (KPI_WARM_UP, default
    1; the tests turn it off so that each test's store does not start a browser)."""
    return os.environ.get("KPI_WARM_UP", "1") != "0"


def base_url() -> str:
    """The dashboard's address as people reach it (`KPI_BASE_URL`, e.g.
    https://kinerja.medan.go.id), without a trailing slash: the links in e-mails (issue 25) and
    the survey forms' addresses (issue 24)."""
    return (os.environ.get("KPI_BASE_URL") or "http://localhost:8501").rstrip("/")
