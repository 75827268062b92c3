"""`manage.py clv fit|store`: the file contract (no database), errors naming the column or
row, the database mode through the ML job."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.ml.models import TrainingRun
from apps.segments.engine import clv as engine
from apps.segments.ml_clv import register_kinds
from apps.segments.models import CustomerScores
from apps.segments.tests.test_clv_engine import simulate_transactions
from apps.segments.tests.test_clv_services import shop_frame, shop_load

CALIBRATION_END = date(2024, 9, 30)


@pytest.fixture(autouse=True)
def kinds(settings, tmp_path):
    settings.ML_ARTIFACT_ROOT = tmp_path / "artifacts"
    register_kinds()


@pytest.fixture(scope="module")
def transactions_csv(tmp_path_factory) -> Path:
    """3,000 simulated customers, first purchases in Jan-Sep 2024, history to mid-2025."""
    frame = simulate_transactions(
        3000,
        seed=61,
        start=date(2024, 1, 1),
        calibration_end=CALIBRATION_END,
        end=date(2025, 6, 29),
        rate_per_day=(0.6, 40.0),
        dropout=(0.8, 2.5),
        spend=(6.0, 3.8, 15.0),
    )
    frame = frame.rename(columns={"customer_id": "cust", "date": "day", "amount": "value"})
    path = tmp_path_factory.mktemp("clv") / "transactions.csv"
    frame.to_csv(path, index=False)
    return path


def _clv(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("clv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _file_args(
    path: Path, *extra: str, calibration_end: str = CALIBRATION_END.isoformat()
) -> list[str]:
    return [
        "fit",
        "--transactions",
        str(path),
        "--customer-col",
        "cust",
        "--date-col",
        "day",
        "--amount-col",
        "value",
        "--calibration-end",
        calibration_end,
        "--time-unit",
        "W",
        *extra,
    ]


def _pandas_summary(path: Path) -> pd.DataFrame:
    """The protocol written directly in pandas, in weeks, up to the calibration end."""
    frame = pd.read_csv(path)
    frame["day"] = pd.to_datetime(frame["day"])
    daily = frame.groupby(["cust", "day"], as_index=False)["value"].sum()
    calibration = daily[daily["day"] <= pd.Timestamp(CALIBRATION_END)]
    grouped = calibration.groupby("cust")
    first = grouped["day"].min()
    summary = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (grouped["day"].max() - first).dt.days / 7,
            "age": (pd.Timestamp(CALIBRATION_END) - first).dt.days / 7,
        }
    )
    first_value = calibration.sort_values("day").groupby("cust")["value"].first()
    repeat_total = grouped["value"].sum() - first_value
    summary["monetary"] = np.where(
        summary["frequency"] > 0, repeat_total / summary["frequency"].clip(lower=1), 0.0
    )
    return summary


def test_fit_on_a_file_prints_the_contract_document(transactions_csv):
    # when
    out, err = _clv(*_file_args(transactions_csv), "--json")

    # then one JSON document with the contract's keys, equal to a fit on a pandas summary
    document = json.loads(out)
    summary = _pandas_summary(transactions_csv)
    bgnbd = engine.bgnbd_fit(summary["frequency"], summary["recency"], summary["age"])
    gamma_gamma = engine.gamma_gamma_fit(summary["frequency"], summary["monetary"])
    assert set(document["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(document["gamma_gamma"]) >= {"p", "q", "v", "log_likelihood"}
    assert document["customers"] == len(summary) == 3000
    for name in ("r", "alpha", "a", "b"):
        assert document["bgnbd"][name] == pytest.approx(getattr(bgnbd, name), rel=1e-9)
    assert document["bgnbd"]["log_likelihood"] == pytest.approx(bgnbd.log_likelihood, rel=1e-12)
    for name in ("p", "q", "v"):
        assert document["gamma_gamma"][name] == pytest.approx(getattr(gamma_gamma, name), rel=1e-9)
    assert document["gamma_gamma"]["log_likelihood"] == pytest.approx(
        gamma_gamma.log_likelihood, rel=1e-12
    )
    # extras: the holdout runs to the last transaction, the independence check, timings
    assert document["calibration_end"] == "2024-09-30"
    assert document["holdout_end"] == pd.read_csv(transactions_csv)["day"].max()
    assert document["time_unit"] == "W"
    assert document["repeat_customers"] == int((summary["frequency"] > 0).sum())
    assert document["diagnostics"]["customers"] == 3000
    assert len(document["diagnostics"]["buckets"]) == 8
    assert document["independence_check"]["customers"] == gamma_gamma.customers
    assert document["fit_seconds"]["total"] > 0
    assert "3,000 customers" in err


def test_fit_on_a_file_recovers_the_simulated_parameters(transactions_csv):
    out, _ = _clv(*_file_args(transactions_csv), "--json")
    document = json.loads(out)

    # weeks: lambda ~ Gamma(0.6, 40 per day) means alpha = 40 / 7 per week
    bgnbd = document["bgnbd"]
    assert bgnbd["r"] / bgnbd["alpha"] == pytest.approx(0.6 / (40 / 7), rel=0.12)
    assert bgnbd["a"] / (bgnbd["a"] + bgnbd["b"]) == pytest.approx(0.8 / 3.3, rel=0.2)
    gamma_gamma = document["gamma_gamma"]
    assert gamma_gamma["mean_spend"] == pytest.approx(6.0 * 15.0 / 2.8, rel=0.1)


def test_human_output_lists_the_parameters_and_the_holdout(transactions_csv):
    out, _ = _clv(*_file_args(transactions_csv))

    assert out.startswith("BG/NBD      r=")
    assert "Gamma-Gamma p=" in out
    assert "Customers   3,000" in out
    assert "  7+" in out


def test_a_whitespace_file_with_compact_dates_like_cdnow(tmp_path):
    # given the CDNOW master file's layout: id, YYYYMMDD, quantity, amount
    lines = ["cust day quantity value"]
    rng = np.random.default_rng(3)
    for customer in range(60):
        for day in sorted(rng.choice(np.arange(1, 28), size=1 + customer % 4, replace=False)):
            lines.append(f"{customer:05d} 199701{day:02d} 1 {10 + customer % 7 + day / 10:.2f}")
        lines.append(f"{customer:05d} 19970305 2 {20 + customer % 5:.2f}")
    path = tmp_path / "cdnow_like.txt"
    path.write_text("\n".join(lines) + "\n")

    out, _ = _clv(
        *_file_args(path, "--delimiter", "whitespace", "--json", calibration_end="1997-02-28")
    )

    document = json.loads(out)
    assert document["customers"] == 60
    assert document["repeat_customers"] == 45
    assert document["holdout_end"] == "1997-03-05"
    assert document["diagnostics"]["actual_total"] == 60.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--customer-col", "customer"), "transactions: column 'customer' is not in the"),
        (("--calibration-end", "30.09.2024"), "--calibration-end must be a date YYYY-MM-DD"),
        (("--calibration-end", "2023-01-01"), "calibration_end: no transaction on or before"),
        (("--time-unit", "M"), "--time-unit must be D (days) or W (weeks), got 'M'"),
        (("--holdout-end", "2024-09-01"), "holdout_end: must be after the calibration end"),
    ],
)
def test_bad_arguments_exit_with_a_one_line_reason(transactions_csv, change, message):
    option, value = change
    args = _file_args(transactions_csv)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]

    with pytest.raises(CommandError) as caught:
        _clv(*args)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_bad_row_is_named_by_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("cust,day,value\nA,2024-01-01,10\nA,2024-01-05,ten\n")
    with pytest.raises(
        CommandError, match=r"^transactions: row 3: amount column 'value' has 'ten'"
    ):
        _clv(*_file_args(path))

    path.write_text("cust,day,value\nA,2024-01-01,10\nB,yesterday,5\n")
    with pytest.raises(CommandError, match=r"^transactions: row 3: date column 'day' has"):
        _clv(*_file_args(path))

    with pytest.raises(CommandError, match=r"^transactions: file '.*missing.csv' does not exist"):
        _clv(*_file_args(tmp_path / "missing.csv"))


def test_the_command_line_exits_non_zero_with_one_line_on_stderr(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("cust,day,value\nA,2024-01-01,10\n")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartmkt.settings.test"}

    result = subprocess.run(
        [sys.executable, "manage.py", "clv", *_file_args(path)[:3], "--customer-col", "nope"]
        + ["--date-col", "day", "--amount-col", "value", "--calibration-end", "2024-01-31"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1:] == [
        "CommandError: transactions: column 'nope' is not in the transactions; "
        "columns: cust, day, value"
    ]


@pytest.mark.django_db(transaction=True)
def test_fit_on_the_database_runs_the_job_and_stores_predictions():
    shop_load(shop_frame(customers=250, seed=67))

    out, err = _clv("fit", "--holdout-days", "45", "--json")

    document = json.loads(out)
    run = TrainingRun.objects.get()
    assert document["run_id"] == run.pk
    assert document["model_version"] == 1
    assert document["customers"] == 250
    assert document["bgnbd"]["r"] == run.metrics["bgnbd_r"]
    assert document["gamma_gamma"]["log_likelihood"] == run.metrics["gamma_gamma_log_likelihood"]
    assert document["stored"]["customers"] == 250
    assert run.params["holdout_days"] == 45
    assert CustomerScores.objects.filter(clv_model_version__version=1).count() == 250
    assert f"run {run.pk} succeeded 100%" in err


@pytest.mark.django_db(transaction=True)
def test_fit_on_an_empty_database_exits_with_the_reason():
    with pytest.raises(CommandError, match=r"ended not_enough_data: CLV needs revenue orders"):
        _clv("fit")

    assert CustomerScores.objects.count() == 0


@pytest.mark.django_db
def test_file_options_without_a_file_are_refused():
    with pytest.raises(CommandError, match=r"^--calibration-end needs --transactions"):
        _clv("fit", "--calibration-end", "2024-01-01")

    assert TrainingRun.objects.count() == 0


@pytest.mark.django_db
def test_store_without_a_model_exits_with_what_to_do():
    with pytest.raises(CommandError, match=r"^No CLV model yet: fit it first"):
        _clv("store")


def _cdnow_sample() -> Path:
    """The CDNOW 1/10th sample (2,357 customers) as shipped in the `lifetimes` wheel (a test
    requirement; located without importing the package, which is not used)."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, (
        "pip install -r requirements/dev.txt"
    )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"


def test_the_cdnow_sample_reproduces_the_published_parameters(tmp_path):
    # given the CDNOW sample with a header (its columns: id, sample id, YYYYMMDD, quantity, amount)
    path = tmp_path / "cdnow.txt"
    path.write_text("cust sample day quantity value\n" + _cdnow_sample().read_text())

    out, _ = _clv(
        *_file_args(path, "--delimiter", "whitespace", "--json", calibration_end="1997-09-30")
    )

    # then the fit is Fader, Hardie and Lee (2005): BG/NBD r=0.243 alpha=4.414 a=0.793 b=2.426,
    # LL=-9582.4; Gamma-Gamma on the 946 repeat buyers p=6.25 q=3.74 gamma=15.44
    document = json.loads(out)
    assert document["customers"] == 2357
    assert document["repeat_customers"] == 946
    bgnbd, gamma_gamma = document["bgnbd"], document["gamma_gamma"]
    assert round(bgnbd["r"], 3) == 0.243
    assert round(bgnbd["alpha"], 3) == 4.414
    assert round(bgnbd["a"], 3) == 0.793
    assert round(bgnbd["b"], 3) == 2.426
    assert round(bgnbd["log_likelihood"], 1) == -9582.4
    assert round(gamma_gamma["p"], 2) == 6.25
    assert round(gamma_gamma["q"], 2) == 3.74
    assert round(gamma_gamma["v"], 2) == 15.44
