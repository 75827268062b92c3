"""`manage.py forecast` on files (the CONTRACTS line) and `manage.py forecasts` on the shop."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


@pytest.fixture
def airline_csv(tmp_path):
    from pmdarima.datasets import load_airpassengers

    values = load_airpassengers()
    path = tmp_path / "air.csv"
    dates = pd.date_range("1949-01-01", periods=len(values), freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"month": dates, "passengers": values}).to_csv(path, index=False)
    return path


def test_forecast_reproduces_the_airline_model_with_the_contract_keys(airline_csv):
    document = _run(
        "forecast",
        "--series",
        str(airline_csv),
        "--date-col",
        "month",
        "--value-col",
        "passengers",
        "--horizon",
        "12",
        "--model",
        "sarima",
        "--order",
        "0,1,1",
        "--seasonal-order",
        "0,1,1,12",
        "--transform",
        "log",
        "--json",
    )

    assert document["model"] == "sarima" and document["frequency"] == "M"
    assert document["params"]["ma.L1"] == pytest.approx(-0.4018, abs=0.002)
    assert document["params"]["ma.S.L12"] == pytest.approx(-0.5569, abs=0.002)
    assert len(document["forecast"]) == 12
    first = document["forecast"][0]
    assert first["date"] == "1961-01-01" and first["lo"] < first["yhat"] < first["hi"]
    assert {row["model"] for row in document["backtest"]} == {"sarima", "naive"}


def test_forecast_auto_beats_seasonal_naive_in_its_own_backtest(airline_csv):
    document = _run(
        "forecast",
        "--series",
        str(airline_csv),
        "--date-col",
        "month",
        "--value-col",
        "passengers",
        "--horizon",
        "12",
        "--candidates",
        "naive,ets,theta",
        "--json",
    )

    chosen = next(row for row in document["backtest"] if row["chosen"])
    naive = next(row for row in document["backtest"] if row["model"] == "naive")
    assert chosen["mase"] < naive["mase"] and document["transform"] == "log"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("date,value\n2025-01-01,1\n2025-02-01,x\n", (), "row 3: value 'x' is not a number"),
        ("date,value\n2025-01-01,1\nsoon,2\n", (), "row 3: date 'soon' is not a date"),
        ("day,value\n2025-01-01,1\n", (), "has no column 'date'"),
        (
            "date,value\n2025-01-01,1\n2025-01-01,2\n",
            (),
            "row 3: 2025-01-01 is also the date of row 2",
        ),
        (
            "date,value,promo\n2025-01-01,1,0\n2025-01-02,2,1\n",
            ("--regressor-cols", "promo"),
            "need 3 future rows",
        ),
        ("date,value\n2025-01-01,1\n2025-01-02,2\n", ("--order", "1,1,1"), "need --model arima"),
    ],
)
def test_forecast_refuses_bad_input_naming_the_row_or_option(tmp_path, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        _run("forecast", "--series", str(path), "--horizon", "3", *args, "--json")


def test_forecast_uses_future_regressor_rows(tmp_path):
    rows = ["date,value,promo"]
    for day in range(60):
        promo = 1 if day % 10 == 0 else 0
        rows.append(
            f"{pd.Timestamp('2025-01-01') + pd.Timedelta(days=day):%Y-%m-%d},{50 + 30 * promo + day % 3},{promo}"
        )
    rows += ["2025-03-02,,1", "2025-03-03,,0", "2025-03-04,,0"]
    path = tmp_path / "promo.csv"
    path.write_text("\n".join(rows) + "\n")

    document = _run(
        "forecast",
        "--series",
        str(path),
        "--horizon",
        "3",
        "--model",
        "arima",
        "--transform",
        "none",
        "--regressor-cols",
        "promo",
        "--json",
    )

    assert document["uses_regressors"] and document["series"]["regressors"] == ["promo"]
    assert document["forecast"][0]["yhat"] - document["forecast"][1]["yhat"] == pytest.approx(
        30, abs=4
    )


@pytest.mark.django_db(transaction=True)  # the run's chunks are queued on commit
def test_forecasts_refresh_list_and_show_on_the_shop(live_shop):
    refreshed = _run("forecasts", "refresh", "--wait", "--timeout", "120", "--json")
    listed = _run("forecasts", "list", "--level", "product", "--json")
    shown = _run("forecasts", "show", "product.BOOT.units.W", "--json")

    assert refreshed["status"] == "succeeded" and refreshed["counts"]["stock_alerts"]["opened"] == 1
    assert [row["series"] for row in listed["series"]] == [
        "product.BOOT.units.W",
        "product.CAP.units.W",
    ]
    assert shown["model"] and len(shown["forecast"]) == 12
    with pytest.raises(CommandError, match="No forecast series 'nope'"):
        _run("forecasts", "show", "nope", "--json")
