"""Sentiment on files and training: predict a CSV, evaluate on labelled texts, train a model.

Training runs two ways. On the database's ML platform (`insights.sentiment` kind): the
labelled CSV a user uploads is checked, stored under MEDIA_ROOT/insights/labelled/ by its
hash, and a training run fine-tunes on it (CPU adapter by default; full fine-tuning on a GPU
worker). Or locally (`sentiment train --output F`): how the head shipped with SmartMkt is
built, reproducibly, from labelled files that are not part of the product.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from apps.core.errors import ValidationFailed
from apps.insights.engine import sentiment as engine
from apps.insights.engine.text import language_detect, text_clean
from apps.insights.services.runtime import SENTIMENT_KIND, sentiment_model_get

Progress = Callable[[float, str], None]
MAX_ROWS = 1_000_000
# Stored datasets are named by hash; nothing else (no path) is accepted as a dataset name.
DATASET_NAME = re.compile(r"[0-9a-f]{16}\.csv")
HOLDOUT_DEFAULT = 0.2


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: list[str]


def _open_csv(path: Path) -> tuple[list[str], csv.DictReader[str]]:
    if not path.is_file():
        raise ValidationFailed(f"input: no file at {path}", field="input")
    handle = io.StringIO(path.read_text(encoding="utf-8-sig", errors="replace"))
    reader = csv.DictReader(handle)
    return list(reader.fieldnames or []), reader


def _rows(reader: csv.DictReader[str], path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row); a broken CSV (an unmatched quote ...) is an error naming the row."""
    number = 1
    try:
        for number, row in enumerate(reader, start=2):  # row 1 is the header
            yield number, row
    except csv.Error as error:
        raise ValidationFailed(f"Row {number + 1} of {path.name}: {error}", field="input") from None


def texts_read(path: Path, *, text_column: str = "text") -> list[str]:
    """The text column of a CSV, in row order (empty cells stay, as empty texts)."""
    columns, reader = _open_csv(path)
    if text_column not in columns:
        raise ValidationFailed(
            f"text-col: column {text_column!r} is not in {path.name} (columns: {', '.join(columns) or 'none'})",
            field="text_col",
        )
    texts = []
    for _, row in _rows(reader, path):
        texts.append(row.get(text_column) or "")
        if len(texts) > MAX_ROWS:
            raise ValidationFailed(f"input: more than {MAX_ROWS:,} rows", field="input")
    return texts


def labelled_read(
    path: Path, *, text_column: str = "text", label_column: str = "label"
) -> LabelledTexts:
    """Texts and labels; a row with an unknown label or no text is an error naming it."""
    columns, reader = _open_csv(path)
    for name, option in ((text_column, "text-col"), (label_column, "label-col")):
        if name not in columns:
            raise ValidationFailed(
                f"{option}: column {name!r} is not in {path.name} (columns: {', '.join(columns) or 'none'})",
                field=option.replace("-", "_"),
            )
    texts: list[str] = []
    labels: list[str] = []
    for number, row in _rows(reader, path):
        text = (row.get(text_column) or "").strip()
        if not text:
            raise ValidationFailed(f"Row {number}: the text is empty", field=text_column)
        try:
            labels.append(engine.label_normalise(row.get(label_column) or "", number))
        except engine.SentimentDataError as error:
            raise ValidationFailed(str(error), field=label_column) from None
        texts.append(text)
    if not texts:
        raise ValidationFailed(f"input: {path.name} has no rows", field="input")
    return LabelledTexts(texts, labels)


def file_predict(*, path: Path, text_column: str = "text") -> dict[str, Any]:
    """`predictions[i] = {label, score}` for each row, in input order, with the version."""
    texts = texts_read(path, text_column=text_column)
    loaded = sentiment_model_get()
    predictions = loaded.model.predict([text_clean(text) for text in texts])
    return {
        "model_version": loaded.label,
        "predictions": [
            {
                "label": p.label,
                "score": p.score,
                "language": language_detect(text_clean(text)).code,
            }
            for p, text in zip(predictions, texts, strict=True)
        ],
    }


def holdout_split(
    data: LabelledTexts, *, holdout: float, seed: int
) -> tuple[LabelledTexts, LabelledTexts]:
    """A seeded, label-stratified split: (train, holdout)."""
    if not 0 <= holdout < 1:
        raise ValidationFailed("holdout must be in [0, 1)", field="holdout")
    rng = random.Random(seed)
    train_rows: list[int] = []
    test_rows: list[int] = []
    for label in sorted(set(data.labels)):
        rows = [i for i, value in enumerate(data.labels) if value == label]
        rng.shuffle(rows)
        cut = round(len(rows) * holdout)
        test_rows.extend(rows[:cut])
        train_rows.extend(rows[cut:])
    rng.shuffle(train_rows)
    test_rows.sort()

    def pick(rows: list[int]) -> LabelledTexts:
        return LabelledTexts([data.texts[i] for i in rows], [data.labels[i] for i in rows])

    return pick(train_rows), pick(test_rows)


def labelled_combine(parts: Sequence[LabelledTexts]) -> LabelledTexts:
    return LabelledTexts(
        [text for part in parts for text in part.texts],
        [label for part in parts for label in part.labels],
    )


def evaluation_by_language(model: engine.SentimentModel, data: LabelledTexts) -> dict[str, Any]:
    """Accuracy overall and per detected language (en, zh ...)."""
    cleaned = [text_clean(text) for text in data.texts]
    overall = engine.evaluate(model, cleaned, data.labels).as_dict()
    languages: dict[str, list[int]] = {}
    for index, text in enumerate(cleaned):
        languages.setdefault(language_detect(text).code, []).append(index)
    overall["languages"] = {
        code: engine.evaluate(
            model, [cleaned[i] for i in rows], [data.labels[i] for i in rows]
        ).as_dict()
        for code, rows in sorted(languages.items())
        if len(rows) >= 20
    }
    return overall


def file_evaluate(
    *, path: Path, text_column: str = "text", label_column: str = "label"
) -> dict[str, Any]:
    """How the champion does on a labelled CSV."""
    data = labelled_read(path, text_column=text_column, label_column=label_column)
    loaded = sentiment_model_get()
    return {"model_version": loaded.label, **evaluation_by_language(loaded.model, data)}


def model_train_local(
    *,
    paths: Sequence[Path],
    output: Path,
    text_column: str = "text",
    label_column: str = "label",
    holdout: float = HOLDOUT_DEFAULT,
    config: engine.SentimentConfig | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train on labelled files (each split on its own, so every language keeps its share in
    the holdout), evaluate on the held-out rows, write the model file. No database."""
    config = config or engine.SentimentConfig()
    trains, tests = [], []
    for path in paths:
        data = labelled_read(path, text_column=text_column, label_column=label_column)
        train, test = holdout_split(data, holdout=holdout, seed=config.seed)
        trains.append(train)
        tests.append(test)
    train = labelled_combine(trains)
    test = labelled_combine(tests)
    try:
        model = engine.fit(
            [text_clean(text) for text in train.texts],
            train.labels,
            config=config,
            device=device,
            progress=progress,
        )
    except engine.SentimentDataError as error:
        raise ValidationFailed(str(error)) from None
    metrics: dict[str, Any] = dict(model.metrics)
    if test.texts:
        if progress is not None:
            progress(99, f"Evaluating on {len(test.texts):,} held-out texts")
        evaluation = evaluation_by_language(model, test)
        metrics["holdout"] = evaluation
        metrics["holdout_share"] = holdout
    metrics["datasets"] = [
        {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in paths
    ]
    model.metrics = metrics
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    return {"output": str(output), "metrics": metrics}


# --- ML platform: datasets and training runs --------------------------------------------------


def dataset_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "insights" / "labelled"


def labelled_dataset_store(
    *, path: Path, text_column: str = "text", label_column: str = "label"
) -> dict[str, Any]:
    """Check a labelled CSV and keep a normalised copy (text,label) named by its hash."""
    data = labelled_read(path, text_column=text_column, label_column=label_column)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label"])
    writer.writerows(zip(data.texts, data.labels, strict=True))
    content = buffer.getvalue().encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    root = dataset_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{digest[:16]}.csv"
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(content)
        shutil.move(partial, target)
    counts = {label: data.labels.count(label) for label in sorted(set(data.labels))}
    return {"dataset": target.name, "rows": len(data.texts), "labels": counts}


def sentiment_training_start(
    *, dataset: str, params: dict[str, Any] | None = None, user: Any = None, trigger: str = "cli"
) -> Any:
    """Queue an `insights.sentiment` training run on a stored labelled dataset."""
    from apps.ml.services import training_run_start

    if not DATASET_NAME.fullmatch(dataset) or not (dataset_root() / dataset).is_file():
        raise ValidationFailed(f"dataset: no stored dataset {dataset!r}", field="dataset")
    return training_run_start(
        kind=SENTIMENT_KIND,
        params={**(params or {}), "dataset": dataset},
        trigger=trigger,
        triggered_by=user,
    )
