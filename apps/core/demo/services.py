"""Generating the synthetic demo shop: the one service behind `manage.py demo_data`."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.contracts import AuditAction
from apps.accounts.services import audit_log_record
from apps.core.demo import loader
from apps.core.demo.catalog import slugify
from apps.core.demo.config import CONFIG_FILES, DemoConfigError, DemoShopConfig
from apps.core.demo.engine import DemoShopSimulator, DemoShopSpec, GroundTruth, window_start
from apps.core.demo.rows import CustomerChunk
from apps.core.errors import Conflict, ValidationFailed

MIN_MONTHS = 18
MAX_MONTHS = 120
MAX_CUSTOMERS = 2_000_000
DEFAULT_MONTHS = 20


def demo_config_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "demo_shop"


def demo_truth_file_default() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "ground_truth.json"


class ProgressBar(Protocol):
    """The part of a tqdm bar the service uses."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> Any: ...

    def close(self) -> Any: ...


ProgressFactory = Callable[[str, int, str], ProgressBar]
"""Makes a bar from (description, total, unit); the command passes one drawing tqdm on stderr."""


class _SilentBar:
    def update(self, n: int = 1) -> None:
        return None

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None

    def close(self) -> None:
        return None


def _silent(description: str, total: int, unit: str) -> ProgressBar:
    return _SilentBar()


@dataclass(frozen=True)
class DemoShopSummary:
    """What a run produced: sizes, window, where the truth file went, how long it took."""

    seed: int
    customers: int
    months: int
    start: date
    end: date
    truth_file: str
    database: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    flushed: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        return data


def demo_config_load(directory: Path | None = None) -> tuple[DemoShopConfig, dict[str, str]]:
    """Read and validate the config files; also return each file's SHA-256 for the truth file."""
    directory = directory or demo_config_dir()
    files: dict[str, Any] = {}
    hashes: dict[str, str] = {}
    for name in CONFIG_FILES:
        path = directory / f"{name}.json"
        try:
            raw = path.read_bytes()
            files[name] = json.loads(raw)
        except FileNotFoundError as error:
            raise ValidationFailed(
                f"demo shop config file {path} is missing", field="config"
            ) from error
        except json.JSONDecodeError as error:
            raise ValidationFailed(
                f"demo shop config file {path} is not valid JSON: {error}", field="config"
            ) from error
        hashes[f"{name}.json"] = hashlib.sha256(raw).hexdigest()
    try:
        return DemoShopConfig.from_mapping(files), hashes
    except DemoConfigError as error:
        raise ValidationFailed(str(error), field="config") from error


def demo_shop_generate(
    *,
    customers: int,
    seed: int,
    months: int = DEFAULT_MONTHS,
    end_date: date | None = None,
    truth_file: Path | str | None = None,
    flush: bool = False,
    if_empty: bool = False,
    progress: ProgressFactory | None = None,
) -> DemoShopSummary:
    """Fill the database with a synthetic fashion shop whose behaviour is known.

    Why: models (CLV, propensity, recommendations, sentiment, forecasting) and the demo need
    believable data with a recorded truth to be checked against. Deterministic for a given
    seed, size, window and config. All rows are written in one transaction and the truth file
    is moved into place only after it commits, so a failed run leaves neither behind. When
    customers exist it refuses (Conflict), unless `flush` replaces the demo rows or `if_empty`
    asks to keep them (then nothing is written and the summary says `skipped`).
    """
    if customers < 1 or customers > MAX_CUSTOMERS:
        raise ValidationFailed(
            f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}", field="customers"
        )
    if seed < 0:
        raise ValidationFailed(f"seed must be a non-negative integer, got {seed}", field="seed")
    if months < MIN_MONTHS or months > MAX_MONTHS:
        raise ValidationFailed(
            f"months must be between {MIN_MONTHS} and {MAX_MONTHS}, got {months}", field="months"
        )
    if flush and if_empty:
        raise ValidationFailed("--flush and --if-empty exclude each other", field="if_empty")
    end = end_date or timezone.now().date()
    config, hashes = demo_config_load()
    spec = DemoShopSpec(
        customers=customers, seed=seed, start=window_start(end, months), end=end, months=months
    )
    target = Path(truth_file) if truth_file else demo_truth_file_default()
    bar = progress or _silent
    category_slugs = _category_slugs(config)
    brands = [(brand["name"], slugify(brand["name"])) for brand in config.catalog["brands"]]
    started = time.monotonic()

    def summary(**outcome: Any) -> DemoShopSummary:
        return DemoShopSummary(
            seed=seed,
            customers=customers,
            months=months,
            start=spec.start,
            end=spec.end,
            truth_file=str(target),
            database=connection.vendor,
            seconds=round(time.monotonic() - started, 2),
            **outcome,
        )

    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValidationFailed(
            f"cannot create the folder of the truth file {target}: {error}", field="truth_file"
        ) from error
    try:
        # A `with` block rather than the decorator: the truth file is renamed after commit.
        with transaction.atomic():
            flushed: dict[str, int] = {}
            if flush:
                flush_bar = bar("flush demo rows", loader.FLUSH_STEPS, "table")
                flushed = loader.demo_rows_delete(
                    category_slugs=category_slugs,
                    brands=brands,
                    step=lambda table: flush_bar.update(1),
                )
                flush_bar.close()
            else:
                existing = loader.customer_count()
                if existing and if_empty:
                    return summary(
                        skipped=True,
                        note=f"the database already has {existing:,} customers; kept them",
                    )
                if existing:
                    raise Conflict(
                        f"the database already has {existing:,} customers; run with --flush "
                        "to replace the demo data",
                        field="flush",
                    )
            conflicts = loader.demo_catalog_conflicts(category_slugs=category_slugs, brands=brands)
            if conflicts:
                raise Conflict(
                    f"demo catalogue rows are in the way ({'; '.join(conflicts)}); run with --flush",
                    field="flush",
                )
            simulator = DemoShopSimulator(config, spec)
            rows = loader.DemoShopLoader()
            catalog_bar = bar("catalogue", len(simulator.catalog.products.sku), "product")
            rows.load_catalog(simulator.catalog)
            catalog_bar.update(len(simulator.catalog.products.sku))
            catalog_bar.close()
            customer_bar = bar("customers", customers, "customer")
            for chunk in _generated_ahead(simulator.chunks()):
                rows.load_chunk(chunk)
                customer_bar.update(len(chunk.customers.external_id))
                counts = simulator.counts
                customer_bar.set_postfix_str(
                    f"orders={counts['orders']:,} events={counts['events']:,}"
                )
            customer_bar.close()
            truth = simulator.ground_truth()
            truth.header["parameters"]["config_sha256"] = hashes
            truth_bar = bar("ground truth", customers, "customer")
            _truth_write(partial, truth, truth_bar)
            truth_bar.close()
            audit_log_record(
                action=AuditAction.DEMO_DATA_GENERATED,
                target=f"{customers:,} customers, seed {seed}",
                actor_label="manage.py demo_data",
                data={"counts": dict(simulator.counts), "flushed": flushed, "end": str(end)},
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return summary(counts=dict(simulator.counts), flushed=flushed)


def _generated_ahead(chunks: Iterator[CustomerChunk], depth: int = 2) -> Iterator[CustomerChunk]:
    """Generate the next chunks in a thread while this one is being inserted.

    The engine is pure Python and the database driver releases the GIL while the server works,
    so generation overlaps the server's insert time. Only this thread touches the database
    (Django connections are per thread); at most `depth` chunks wait in memory.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(done)
        except BaseException as error:  # noqa: BLE001 - handed over; the consumer re-raises it
            offer(error)

    producer = threading.Thread(target=produce, name="demo-shop-generator", daemon=True)
    producer.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        producer.join()


def _category_slugs(config: DemoShopConfig) -> list[str]:
    slugs = []
    for department in config.catalog["departments"]:
        slugs.append(department["slug"])
        slugs.extend(child["slug"] for child in department["children"])
    return slugs


def _truth_write(path: Path, truth: GroundTruth, bar: ProgressBar) -> None:
    """Stream the truth JSON: one customer per line, so 100,000 customers need little memory."""
    with path.open("w", encoding="utf-8") as out:
        header = json.dumps(truth.header, ensure_ascii=False, indent=1)
        out.write(header[:-2].rstrip() + ',\n "customers": [\n')
        for number, record in enumerate(truth.customers):
            out.write(("  " if number == 0 else ",\n  ") + json.dumps(record, ensure_ascii=False))
            if number % 1000 == 999:
                bar.update(1000)
        bar.update(truth.header["parameters"]["customers"] % 1000)
        out.write('\n ],\n "products": [\n')
        out.write(",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in truth.products))
        out.write('\n ],\n "social_posts": [\n')
        out.write(",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in truth.social_posts))
        out.write("\n ]\n}\n")
