"""Interaction and item files (CSV) for the file CLI, with errors that name the column or line.

Interactions: columns user_id, item_id, timestamp and optionally rating (header names are
matched without regard to case or surrounding spaces). timestamp is epoch seconds (epoch
milliseconds are recognised by their size) or an ISO date/time; a missing timestamp column
falls back to file order. rating, when present, is the interaction's weight (a positive
number; zero or negative ratings still count as an interaction, with weight 1).

Items (optional): item_id and any of category, brand, price, title, description, text, tags
(tags separated by "|"). Users (optional): user_id and categorical columns (segment, country,
age band ...); a column named segment, else all columns together, forms the segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from apps.recommendations.engine.data import InteractionLog, ItemFeatures, UserFeatures

REQUIRED = ("user_id", "item_id")
MILLISECONDS_ABOVE = 1e11  # epoch seconds stay below this until the year 5138
FIRST_DATA_LINE = 2  # line numbers count the header as line 1


class InteractionFileError(ValueError):
    """A file the CLI cannot use; the message names the file, and the column or line."""


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InteractionFileError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise InteractionFileError(f"{path}: not a readable CSV file ({first_line})") from None
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    return frame


def read_interactions(path: Path) -> InteractionLog:
    """The interactions of a CSV file, validated row by row."""
    frame = _read(path)
    for column in REQUIRED:
        if column not in frame.columns:
            found = ", ".join(frame.columns) or "none"
            raise InteractionFileError(
                f"{path}: missing column {column} (columns found: {found}; "
                "expected user_id,item_id,rating,timestamp)"
            )
    if frame.empty:
        raise InteractionFileError(f"{path}: no interaction rows")
    users = frame["user_id"].str.strip()
    items = frame["item_id"].str.strip()
    for column, values in (("user_id", users), ("item_id", items)):
        empty = np.flatnonzero((values == "").to_numpy())
        if empty.size:
            raise InteractionFileError(f"{path}: line {empty[0] + FIRST_DATA_LINE}: empty {column}")
    if "timestamp" in frame.columns:
        timestamps = _timestamps(path, frame["timestamp"].str.strip())
    else:
        timestamps = np.arange(len(frame), dtype=np.float64)
    weights = np.ones(len(frame), dtype=np.float32)
    if "rating" in frame.columns:
        raw = frame["rating"].str.strip()
        ratings = np.array(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(ratings) & (raw != "").to_numpy())
        if bad.size:
            raise InteractionFileError(
                f"{path}: line {bad[0] + FIRST_DATA_LINE}: rating {raw.iloc[bad[0]]!r} "
                "is not a number"
            )
        weights = np.where(np.isfinite(ratings) & (ratings > 0), ratings, 1.0).astype(np.float32)
    return InteractionLog(
        user_ids=users.to_numpy(dtype=str),
        item_ids=items.to_numpy(dtype=str),
        timestamps=timestamps,
        weights=weights,
    )


def _timestamps(path: Path, raw: pd.Series) -> np.ndarray:
    numbers = np.array(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)
    text = ~np.isfinite(numbers)
    if text.any():
        parsed = pd.to_datetime(raw[text], errors="coerce", utc=True, format="ISO8601")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        numbers[text] = seconds.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if bad.size:
        value = raw.iloc[bad[0]]
        raise InteractionFileError(
            f"{path}: line {bad[0] + FIRST_DATA_LINE}: timestamp {value!r} is neither epoch "
            "seconds nor an ISO date"
        )
    if np.median(numbers) > MILLISECONDS_ABOVE:
        numbers = numbers / 1000.0
    return numbers


def read_items(path: Path) -> ItemFeatures:
    """Catalogue side information for content and category algorithms."""
    frame = _read(path)
    if "item_id" not in frame.columns:
        raise InteractionFileError(f"{path}: missing column item_id")
    ids = frame["item_id"].str.strip()
    empty = np.flatnonzero((ids == "").to_numpy())
    if empty.size:
        raise InteractionFileError(f"{path}: line {empty[0] + FIRST_DATA_LINE}: empty item_id")

    def column(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), "", dtype=object)
        return frame[name].str.strip().to_numpy(dtype=object)

    prices = (
        pd.to_numeric(frame["price"], errors="coerce").to_numpy(dtype=np.float64)
        if "price" in frame.columns
        else np.full(len(frame), np.nan)
    )
    texts = [
        " ".join(part for part in parts if part)
        for parts in zip(column("title"), column("description"), column("text"), strict=True)
    ]
    tags = [
        [tag.strip() for tag in str(value).split("|") if tag.strip()] for value in column("tags")
    ]
    return ItemFeatures(
        item_ids=ids.to_numpy(dtype=str),
        categories=column("category").astype(str),
        brands=column("brand").astype(str),
        prices=prices,
        texts=np.asarray(texts, dtype=str),
        tags=tags,
    )


def read_users(path: Path) -> UserFeatures:
    """Categorical user side information: every column but user_id is a feature."""
    frame = _read(path)
    if "user_id" not in frame.columns:
        raise InteractionFileError(f"{path}: missing column user_id")
    ids = frame["user_id"].str.strip()
    empty = np.flatnonzero((ids == "").to_numpy())
    if empty.size:
        raise InteractionFileError(f"{path}: line {empty[0] + FIRST_DATA_LINE}: empty user_id")
    features = {
        name: frame[name].str.strip().to_numpy(dtype=str)
        for name in frame.columns
        if name != "user_id"
    }
    if not features:
        raise InteractionFileError(f"{path}: no feature columns besides user_id")
    return UserFeatures(user_ids=ids.to_numpy(dtype=str), features=features)
