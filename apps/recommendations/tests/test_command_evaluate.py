"""`manage.py recommend evaluate`: the file contract (no database), and errors that name the
column, line or file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.recommendations.engine.split import temporal_split
from apps.recommendations.engine.train import ALGORITHM_NAMES
from apps.recommendations.tests.test_engine_algorithms import planted_shop

CONTRACT_KEYS = {"precision@10", "recall@10", "ndcg@10", "map@10", "coverage", "train_seconds"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    """The planted shop split per user, as contract CSVs (ISO dates in the test file)."""
    log, _, _ = planted_shop(customers=80)
    split = temporal_split(log, fraction=0.2, mode="per_user")
    folder = tmp_path_factory.mktemp("recommend")
    train = pd.DataFrame(
        {
            "user_id": split.train.user_ids,
            "item_id": split.train.item_ids,
            "rating": split.train.weights,
            "timestamp": split.train.timestamps.astype(np.int64),
        }
    )
    test = pd.DataFrame(
        {
            "user_id": np.append(split.test.user_ids, "newcomer"),
            "item_id": np.append(split.test.item_ids, "p0"),
            "timestamp": pd.to_datetime(
                np.append(split.test.timestamps, split.test.timestamps.max()), unit="s"
            ).strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    return folder / "train.csv", folder / "test.csv"


def _recommend(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("recommend", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_evaluate_json_has_every_algorithm_with_the_contract_keys(files):
    # given
    train, test = files

    # when
    out, err = _recommend(
        "evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--k",
        "10",
        "--time-budget",
        "4",
        "--json",
    )

    # then
    document = json.loads(out)
    expected = set(ALGORITHM_NAMES) - {"content", "popularity_segment"}  # no --items, --users
    assert set(document["algorithms"]) == expected
    for name, entry in document["algorithms"].items():
        assert CONTRACT_KEYS <= set(entry), name
        assert 0.0 <= entry["ndcg@10"] <= 1.0
    assert document["best"] in document["algorithms"]
    assert document["skipped"] == {
        "content": "no item texts (titles, descriptions)",
        "popularity_segment": "no user features to form segments",
    }
    assert document["split"]["test_mode"] == "per_user"
    assert document["split"]["test_users"] == 81  # the newcomer unknown to training counts
    assert document["reference"]["algorithm"] in ("als", "bpr", "lightfm")
    assert "%]" in err  # progress went to stderr


def test_evaluate_keys_follow_k_and_the_chosen_algorithms(files):
    # given
    train, test = files

    # when
    out, _ = _recommend(
        "evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--k",
        "5",
        "--algorithms",
        "popularity,item_knn",
        "--time-budget",
        "1",
        "--json",
    )

    # then
    document = json.loads(out)
    assert set(document["algorithms"]) == {"popularity", "item_knn"}
    assert {"precision@5", "recall@5", "ndcg@5", "map@5"} <= set(document["algorithms"]["item_knn"])
    assert document["k"] == 5


def test_evaluate_with_items_and_users_files_runs_content_and_segments(files, tmp_path):
    # given: a catalogue with categories and titles, customers with a segment
    train, test = files
    _, catalogue, people = planted_shop(customers=80)
    items, users = tmp_path / "items.csv", tmp_path / "users.csv"
    pd.DataFrame(
        {"item_id": catalogue.item_ids, "category": catalogue.categories, "title": catalogue.texts}
    ).to_csv(items, index=False)
    pd.DataFrame({"user_id": people.user_ids, **people.features}).to_csv(users, index=False)

    # when
    out, _ = _recommend(
        "evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--items",
        str(items),
        "--users",
        str(users),
        "--algorithms",
        "content,popularity_category,popularity_segment",
        "--time-budget",
        "1",
        "--json",
    )

    # then
    document = json.loads(out)
    assert set(document["algorithms"]) == {"content", "popularity_category", "popularity_segment"}
    assert document["skipped"] == {}


def test_evaluate_without_json_prints_a_table(files):
    # given
    train, test = files

    # when
    out, _ = _recommend(
        "evaluate",
        "--train",
        str(train),
        "--test",
        str(test),
        "--algorithms",
        "popularity",
        "--time-budget",
        "1",
    )

    # then
    assert out.splitlines()[0].split()[:2] == ["algorithm", "ndcg@10"]
    assert "best (on validation): popularity" in out


def test_missing_column_is_named(files, tmp_path):
    # given
    _, test = files
    train = _write(tmp_path / "train.csv", "user_id,product,timestamp\nu1,p1,1\n")

    # when / then
    with pytest.raises(CommandError, match=r"train\.csv: missing column item_id"):
        _recommend("evaluate", "--train", str(train), "--test", str(test), "--json")


def test_bad_timestamp_names_its_line(files, tmp_path):
    # given
    train, _ = files
    test = _write(
        tmp_path / "test.csv",
        "user_id,item_id,timestamp\nc1,p1,2024-01-02\nc2,p2,1700000000\nc3,p3,yesterday\n",
    )

    # when / then
    with pytest.raises(
        CommandError,
        match=r"test\.csv: line 4: timestamp 'yesterday' is neither epoch seconds nor an ISO date",
    ):
        _recommend("evaluate", "--train", str(train), "--test", str(test))


def test_bad_rating_and_empty_id_name_their_lines(files, tmp_path):
    # given
    _, test = files
    rating = _write(tmp_path / "rating.csv", "user_id,item_id,rating,timestamp\nu,p,five,1\n")
    empty = _write(tmp_path / "empty.csv", "user_id,item_id,rating,timestamp\nu,p,5,1\n,p,5,2\n")

    # when / then
    with pytest.raises(CommandError, match=r"line 2: rating 'five' is not a number"):
        _recommend("evaluate", "--train", str(rating), "--test", str(test))
    with pytest.raises(CommandError, match=r"line 3: empty user_id"):
        _recommend("evaluate", "--train", str(empty), "--test", str(test))


def test_missing_file_and_bad_options_are_refused(files, tmp_path):
    # given
    train, test = files

    # when / then
    with pytest.raises(CommandError, match=r"nowhere\.csv: file not found"):
        _recommend("evaluate", "--train", str(tmp_path / "nowhere.csv"), "--test", str(test))
    with pytest.raises(CommandError, match=r"--k must be at least 1"):
        _recommend("evaluate", "--train", str(train), "--test", str(test), "--k", "0")
    with pytest.raises(CommandError, match=r"--algorithms: unknown magic"):
        _recommend("evaluate", "--train", str(train), "--test", str(test), "--algorithms", "magic")


def test_too_little_data_is_a_clear_refusal(files, tmp_path):
    # given
    _, test = files
    train = _write(tmp_path / "tiny.csv", "user_id,item_id,timestamp\nu1,p1,1\nu2,p2,2\n")

    # when / then
    with pytest.raises(CommandError, match=r"not enough data to learn recommendations: 2 users"):
        _recommend("evaluate", "--train", str(train), "--test", str(test))


def test_command_line_prints_one_json_document_and_fails_with_one_line(files, tmp_path):
    # given
    train, test = files
    base = [sys.executable, "manage.py", "recommend", "evaluate", "--test", str(test), "--json"]
    bad = _write(tmp_path / "bad.csv", "user,item\nu,p\n")

    # when
    good = subprocess.run(
        [*base, "--train", str(train), "--algorithms", "popularity", "--time-budget", "1"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    failed = subprocess.run(
        [*base, "--train", str(bad)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    # then
    assert good.returncode == 0, good.stderr
    assert list(json.loads(good.stdout)["algorithms"]) == ["popularity"]
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert failed.stderr.strip().splitlines()[-1].startswith("CommandError: ")
    assert "missing column user_id" in failed.stderr
