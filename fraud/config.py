"""Typed settings in one place.

Paths, Spark settings and policy live in one frozen dataclass, read from the
environment (FRAUD_*) so that the CLI, the Airflow tasks and the tests see the same
values. Defaults run the demo on one machine.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path


def _flag(text: str) -> bool:
    return text.lower() in ("1", "true", "yes")


def _parse_conf(text: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"FRAUD_SPARK_CONF: expected key=value, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


_SAMPLE_SIZE = re.compile(r"(?P<count>[0-9]+)|(?P<share>[0-9]+(?:\.[0-9]+)?)%")


@dataclass(frozen=True)
class SampleSize:
    """FRAUD_CONTROL_SAMPLE: a count of claims ("200") or a share of the claims the
    queue left out ("0.5%")."""

    count: int | None = None
    # Exact (a Fraction of the decimal text): "7%" of 100 claims is 7, not ceil(7.000000000000001).
    share: Fraction | None = None

    @classmethod
    def parse(cls, text: str) -> "SampleSize":
        match = _SAMPLE_SIZE.fullmatch(str(text).strip())
        if match is None:
            raise ValueError(f"FRAUD_CONTROL_SAMPLE: a count (200) or a share (0.5%), not {text!r}")
        if match["count"] is not None:
            return cls(count=int(match["count"]))
        share = Fraction(match["share"])
        if share > 100:
            raise ValueError(f"FRAUD_CONTROL_SAMPLE: a share is at most 100%, not {text!r}")
        return cls(share=share / 100)

    def of(self, candidates: int) -> int:
        """How many of `candidates` claims to draw."""
        if self.count is not None:
            return min(self.count, candidates)
        return min(candidates, math.ceil(candidates * (self.share or 0)))


# The size of history (conformed rows) from which a nightly run builds on the night
# before. One-day nights on this 2-core machine, computed in full or built on the day
# before: 0.71 million rows, full 5-8 s faster (of 79-96 s); 1.42 million, about even;
# 7.1 million, built on 149 s against 227 s (docs/scale.md, bench/results.md).
INCREMENTAL_MIN_ROWS = 1_000_000

# The law's ceiling for additional collection: 5x the overpayment (collusion).
MAX_ADDITIONAL_COLLECTION = 5.0
# The shortest time a notice may give the claimant to answer (행정절차법 제21조 제3항).
MIN_NOTICE_RESPONSE_DAYS = 10


# The settings that are paths (resolved when read; landing and warehouse always set).
PATH_SETTINGS = ("landing", "warehouse", "landing_root", "stage_server")

# Each FRAUD_* variable: the setting it sets and how its text is read.
ENVIRONMENT: dict[str, tuple[str, object]] = {
    "FRAUD_LANDING": ("landing", Path),
    "FRAUD_WAREHOUSE": ("warehouse", Path),
    "FRAUD_SPARK_MASTER": ("spark_master", str),
    "FRAUD_SPARK_CONF": ("spark_conf", _parse_conf),
    "FRAUD_SPARK_SHUFFLE_PARTITIONS": ("spark_shuffle_partitions", int),
    "FRAUD_SPARK_DRIVER_MEMORY": ("spark_driver_memory", str),
    "FRAUD_SPARK_UI": ("spark_ui", _flag),
    "FRAUD_DROP_WAIT_TIMEOUT": ("drop_wait_timeout_seconds", int),
    "FRAUD_DROP_POKE": ("drop_poke_seconds", int),
    "FRAUD_HUB_MAX_DEGREE": ("hub_max_degree", int),
    "FRAUD_REQUIRE_DROPS": ("require_drops_for_ds", _flag),
    "FRAUD_ADDITIONAL_COLLECTION": ("additional_collection_multiplier", float),
    "FRAUD_ADDITIONAL_COLLECTION_COLLUSION": ("additional_collection_collusion_multiplier", float),
    "FRAUD_FULL_REBUILD": ("full_rebuild", _flag),
    "FRAUD_INCREMENTAL_MIN_ROWS": ("incremental_min_rows", int),
    "FRAUD_RETENTION_KEEP": ("retention_keep", int),
    "FRAUD_NOTICE_RESPONSE_DAYS": ("notice_response_days", int),
    "FRAUD_CONTROL_SAMPLE": ("control_sample", str),
    "FRAUD_STAGE_SERVER": ("stage_server", Path),
}


@dataclass(frozen=True)
class Settings:
    landing: Path = Path("landing")
    warehouse: Path = Path("warehouse")
    # Every delivered file must be a regular file inside this directory (default: the
    # landing). fraudctl verify's scratch landing links to the real landing's drops.
    landing_root: Path | None = None
    spark_master: str = "local[*]"
    spark_conf: dict[str, str] = field(default_factory=dict)
    spark_shuffle_partitions: int = 8
    spark_driver_memory: str = "4g"
    spark_ui: bool = False
    # How long the nightly run waits for all sources' manifests before it fails,
    # and how often it looks.
    drop_wait_timeout_seconds: int = 6 * 3600
    drop_poke_seconds: int = 60
    # Whether a run needs every source to have delivered a drop dated ds.
    require_drops_for_ds: bool = True
    # A node of the collusion graph linked to more than this many others (a payroll
    # agency's account, a business centre's address) is a hub: reported, not linked.
    hub_max_degree: int = 50
    # Conform every table from all validated rows instead of merging the night's
    # drops into the previous conformed date (jobs/conform.py); same tables either way.
    full_rebuild: bool = False
    # A night builds on the night before (jobs/conform.py) only when that night's
    # conformed tables hold at least this many rows: below it, the fixed Spark work of
    # building on them (the changes, the layers, the carried-over results) costs more
    # than computing everything (docs/scale.md). Same tables and outputs either way.
    incremental_min_rows: int = INCREMENTAL_MIN_ROWS
    # Additional collection (추가징수) the report shows per case, as a multiple of the
    # overpayment: up to 5x when the employer colluded (공모형, DOMAIN.md), up to 2x
    # otherwise (고용보험법 제62조). Policy may set lower caps; 5 is the legal ceiling.
    additional_collection_multiplier: float = 2.0
    additional_collection_collusion_multiplier: float = 5.0
    # Nights whose working state retention keeps (fraudctl prune, the fraud_retention
    # DAG): the newest is what the next night builds on.
    retention_keep: int = 2
    # Days after a notice's date the claimant has to answer it (의견제출 기한: fraudctl
    # notice, the workbench's notice). A letter's policy, not a night's: no manifest records it.
    notice_response_days: int = 14
    # The night's random control sample of the undecided claims the queue left out
    # (jobs/safeguards.py): a count ("200") or a share ("0.5%").
    control_sample: str = "200"
    # The socket of a `fraudctl stage-server` the Airflow tasks hand their Spark stage
    # to (jobs/stage_server.py): one warm JVM for every night instead of one per task.
    # Where a stage is computed changes no output: no manifest records it.
    stage_server: Path | None = None

    def __post_init__(self):
        SampleSize.parse(self.control_sample)  # a clear error now, not in the night's last stage
        for name in ("additional_collection_multiplier", "additional_collection_collusion_multiplier"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_ADDITIONAL_COLLECTION:
                raise ValueError(f"{name} must be between 0 and {MAX_ADDITIONAL_COLLECTION}, got {value}")
        if self.notice_response_days < MIN_NOTICE_RESPONSE_DAYS:
            raise ValueError(
                f"notice_response_days must be at least {MIN_NOTICE_RESPONSE_DAYS}, got {self.notice_response_days}"
            )

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values: dict = {
            name: parse(env[variable]) for variable, (name, parse) in ENVIRONMENT.items() if variable in env
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in PATH_SETTINGS:
            value = values.get(key, getattr(cls, key))
            if value is not None:
                values[key] = Path(value).resolve()
        return cls(**values)

    def as_manifest(self) -> dict:
        """The configuration as recorded in a run manifest (paths excluded: a re-run
        elsewhere must compare equal)."""
        recorded = dataclasses.asdict(self)
        for key in (
            "landing",
            "warehouse",
            "landing_root",
            "spark_master",
            "spark_conf",
            "spark_ui",
            "spark_driver_memory",
            "drop_wait_timeout_seconds",
            "drop_poke_seconds",
            "full_rebuild",
            "incremental_min_rows",
            "retention_keep",
            "notice_response_days",
            "stage_server",
        ):
            recorded.pop(key)
        return recorded
