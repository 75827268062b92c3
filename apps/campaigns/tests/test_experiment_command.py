"""`manage.py experiment analyze|power`: the file contract (no database), one JSON document on
stdout, and bad arguments or files that fail with one line naming the row or field."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

CONTRACT_KEYS = {"variant", "lift", "ci_low", "ci_high", "p_value", "chance_to_win"}

# GrowthBook's gbstats two-sided t-test case (packages/stats/tests/frequentist/test_tests.py).
MEAN_CSV = "variant,n,sum,sum_squares\ncontrol,3407,1396.87,52377.9767\nb,3461,2422.7,134698.29\n"
PROPORTION_CSV = "variant,n,conversions\nA,10000,500\nB,10050,560\nC,9950,430\n"


def _experiment(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("experiment", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _analyze_json(path: Path, *options: str) -> dict:
    out, _ = _experiment("analyze", "--input", str(path), *options, "--json")
    return json.loads(out)


def test_frequentist_mean_analysis_prints_the_contract_keys(tmp_path):
    # given
    data = _write(tmp_path / "mean.csv", MEAN_CSV)

    # when
    out, err = _experiment(
        "analyze",
        "--input",
        str(data),
        "--metric-type",
        "mean",
        "--engine",
        "frequentist",
        "--json",
    )
    document = json.loads(out)

    # then: one document on stdout, progress on stderr
    assert "Analysing 2 variants" in err
    assert document["engine"] == "frequentist"
    assert document["metric_type"] == "mean"
    assert document["difference_type"] == "relative"
    assert document["control"]["variant"] == "control"
    assert [entry["variant"] for entry in document["variants"]] == ["b"]
    entry = document["variants"][0]
    assert CONTRACT_KEYS <= set(entry)
    # the gbstats reference values, relative lift by default
    assert round(entry["lift"], 5) == 0.70732
    assert (round(entry["ci_low"], 5), round(entry["ci_high"], 5)) == (-0.03526, 1.44989)
    assert round(entry["p_value"], 5) == 0.06191
    assert entry["control_mean"] == pytest.approx(0.41, abs=1e-4)
    assert entry["treatment_mean"] == pytest.approx(0.7, abs=1e-12)
    assert entry["n"] == 3461
    assert entry["significant"] is False
    assert set(document["srm"]) >= {"chi_square", "p_value", "mismatch", "observed", "expected"}


def test_every_engine_and_option_keeps_the_contract_keys(tmp_path):
    # given
    data = _write(tmp_path / "proportion.csv", PROPORTION_CSV)
    runs = [
        ("--engine", "frequentist"),
        ("--engine", "frequentist", "--sequential"),
        ("--engine", "frequentist", "--difference-type", "absolute"),
        ("--engine", "bayesian"),
        ("--engine", "bayesian", "--difference-type", "absolute"),
    ]

    for options in runs:
        # when
        document = _analyze_json(data, "--metric-type", "proportion", *options)

        # then
        assert [entry["variant"] for entry in document["variants"]] == ["B", "C"], options
        for entry in document["variants"]:
            assert CONTRACT_KEYS <= set(entry), options
            assert all(isinstance(entry[key], float) for key in CONTRACT_KEYS - {"variant"})
            assert entry["ci_low"] <= entry["lift"] <= entry["ci_high"]


def test_bayesian_json_reports_chance_to_win_and_expected_loss(tmp_path):
    # given: gbstats bayesian TestBinom, 49/100 vs 51/100
    data = _write(tmp_path / "p.csv", "variant,n,conversions\na,100,49\nb,100,51\n")

    # when
    document = _analyze_json(data, "--metric-type", "proportion", "--engine", "bayesian")
    entry = document["variants"][0]

    # then
    assert round(entry["chance_to_win"], 5) == 0.60918
    assert round(entry["expected_loss"], 5) == 0.04058
    assert round(entry["expected_loss_control"], 5) == 0.0814
    assert document["prior"] == {"mean": 0.0, "variance": 0.09, "proper": False}


def test_sequential_interval_is_wider_than_the_fixed_one(tmp_path):
    # given
    data = _write(tmp_path / "mean.csv", MEAN_CSV)
    options = ("--metric-type", "mean", "--engine", "frequentist")

    # when
    fixed = _analyze_json(data, *options)["variants"][0]
    sequential = _analyze_json(data, *options, "--sequential", "--sequential-tuning", "1000")

    # then
    entry = sequential["variants"][0]
    assert sequential["sequential"] is True and sequential["sequential_tuning"] == 1000
    assert entry["ci_low"] < fixed["ci_low"] and entry["ci_high"] > fixed["ci_high"]
    assert entry["p_value"] >= fixed["p_value"]


def test_absolute_difference_and_alpha(tmp_path):
    # given
    data = _write(tmp_path / "mean.csv", MEAN_CSV)

    # when
    document = _analyze_json(
        data,
        "--metric-type",
        "mean",
        "--engine",
        "frequentist",
        "--difference-type",
        "absolute",
        "--alpha",
        "0.1",
    )
    entry = document["variants"][0]

    # then: gbstats absolute case (p 0.02016), a 90% interval inside the 95% one
    assert round(entry["lift"], 5) == 0.29
    assert round(entry["p_value"], 5) == 0.02016
    assert 0.04538 < entry["ci_low"] < entry["ci_high"] < 0.53462
    assert entry["significant"] is True


def test_cuped_columns_switch_variance_reduction_on(tmp_path):
    # given: y and x from the same units, strongly correlated
    data = _write(
        tmp_path / "cuped.csv",
        "variant,n,sum,sum_squares,sum_x,sum_x_squares,sum_xy\n"
        "control,1000,10000,110000,5000,26000,52800\n"
        "b,1000,10400,118000,5010,26100,54900\n",
    )

    # when
    document = _analyze_json(data, "--metric-type", "mean", "--engine", "frequentist")
    entry = document["variants"][0]

    # then
    assert document["cuped"] is True
    assert entry["cuped_theta"] > 0
    assert entry["variance_reduction"] > 0.6


def test_srm_weights_and_flag(tmp_path):
    # given: a 50/50 test that received 10000 vs 10600 units
    data = _write(tmp_path / "srm.csv", "variant,n,conversions\na,10000,500\nb,10600,530\n")

    # when
    equal = _analyze_json(data, "--metric-type", "proportion", "--engine", "frequentist")
    planned = _analyze_json(
        data, "--metric-type", "proportion", "--engine", "frequentist", "--weights", "100,106"
    )

    # then
    assert equal["srm"]["mismatch"] is True
    assert equal["srm"]["p_value"] < 0.001
    assert planned["srm"]["mismatch"] is False
    assert planned["srm"]["chi_square"] == pytest.approx(0.0, abs=1e-9)


def test_readable_table_without_json(tmp_path):
    # given
    data = _write(tmp_path / "proportion.csv", PROPORTION_CSV)

    # when
    out, _ = _experiment(
        "analyze", "--input", str(data), "--metric-type", "proportion", "--engine", "bayesian"
    )

    # then
    lines = out.splitlines()
    assert lines[0] == "bayesian analysis of a proportion metric, relative difference"
    assert lines[1].split()[:4] == ["variant", "n", "mean", "lift"]
    assert lines[2].split() == ["A", "10000", "0.05"]
    assert lines[3].startswith("B") and "+11.44%" in lines[3]
    assert lines[-1].startswith("sample ratio check: chi-square 0.500")


@pytest.mark.parametrize(
    ("text", "metric_type", "message"),
    [
        ("variant,n,sum\na,10,5\nb,10,6\n", "mean", r"missing column sum_squares"),
        (
            "variant,n,sum,sum_squares\na,10,5,30\nb,10,six,30\n",
            "mean",
            r"line 3 \(variant 'b'\): 'sum' is not a number: 'six'",
        ),
        (
            "variant,n,sum,sum_squares\na,10,5,30\nb,1,6,36\n",
            "mean",
            r"line 3 \(variant 'b'\): n must be greater than 1",
        ),
        (
            "variant,n,sum,sum_squares\na,10,50,200\nb,10,6,30\n",
            "mean",
            r"line 2 \(variant 'a'\): sum_squares 200 is below sum²/n 250",
        ),
        (
            "variant,n,conversions\na,100,5\nb,100,101\n",
            "proportion",
            r"line 3 \(variant 'b'\): 'conversions' \(101\) exceeds 'n' \(100\)",
        ),
        ("variant,n,conversions\na,100,5\n", "proportion", r"at least 2 rows .* found 1"),
        (
            "variant,n,conversions\na,100,5\nb,100,6\na,100,7\n",
            "proportion",
            r"line 4 \(variant 'a'\): duplicate variant name, already on line 2",
        ),
        ("", "proportion", r"the file is empty"),
        (
            "variant,n,conversions\na,0,0\nb,100,7\n",
            "proportion",
            r"line 2 \(variant 'a'\): n must be greater than 1",
        ),
        (
            "variant,n,conversions\na,100,0\nb,100,7\n",
            "proportion",
            r"control mean is 0, so a relative lift is undefined",
        ),
    ],
)
def test_bad_files_fail_with_a_reason_naming_the_row_or_field(tmp_path, text, metric_type, message):
    # given
    data = _write(tmp_path / "bad.csv", text)

    # when / then
    with pytest.raises(CommandError, match=message):
        _experiment(
            "analyze", "--input", str(data), "--metric-type", metric_type, "--engine", "frequentist"
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--engine", "bayesian", "--sequential"), r"frequentist engine only"),
        (("--engine", "frequentist", "--alpha", "1.5"), r"alpha must be between 0 and 1"),
        (("--engine", "frequentist", "--weights", "1,1"), r"--weights has 2 values for 3"),
        (("--engine", "frequentist", "--weights", "1,x,1"), r"--weights must be comma-separated"),
        (("--engine", "frequentist", "--weights", "1,0,1"), r"weights must all be positive"),
        (("--engine", "frequentist", "--sequential", "--sequential-tuning", "0"), r"positive"),
        (("--engine", "frequentist", "--prior-mean", "0.1"), r"--engine bayesian only"),
    ],
)
def test_bad_arguments_fail_with_a_reason(tmp_path, options, message):
    # given
    data = _write(tmp_path / "proportion.csv", PROPORTION_CSV)

    # when / then
    with pytest.raises(CommandError, match=message):
        _experiment("analyze", "--input", str(data), "--metric-type", "proportion", *options)


def test_missing_input_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*nowhere\.csv"):
        _experiment(
            "analyze",
            "--input",
            str(tmp_path / "nowhere.csv"),
            "--metric-type",
            "mean",
            "--engine",
            "frequentist",
        )


def test_power_for_a_proportion_metric():
    # when
    out, _ = _experiment(
        "power", "--metric-type", "proportion", "--baseline", "0.05", "--mde", "0.1", "--json"
    )
    document = json.loads(out)

    # then: 5% -> 5.5% at alpha 0.05 and power 0.8
    assert document["n_per_variant"] == 31231
    assert document["total_n"] == 62462
    assert document["alpha"] == 0.05 and document["power"] == 0.8 and document["variants"] == 2


def test_power_for_a_mean_metric_with_three_variants():
    # when
    out, _ = _experiment(
        "power",
        "--metric-type",
        "mean",
        "--baseline",
        "40",
        "--sd",
        "25",
        "--mde",
        "0.05",
        "--power",
        "0.9",
        "--variants",
        "3",
        "--json",
    )
    document = json.loads(out)

    # then: z-test n for d = 2/25 at power 0.9 is 3283.6 per arm
    assert document["n_per_variant"] == 3284
    assert document["total_n"] == 3 * 3284


def test_power_table_and_bad_arguments():
    # when
    out, _ = _experiment(
        "power", "--metric-type", "proportion", "--baseline", "0.05", "--mde", "0.1"
    )

    # then
    assert "per variant: 31,231" in out
    with pytest.raises(CommandError, match=r"--sd is required"):
        _experiment("power", "--metric-type", "mean", "--baseline", "10", "--mde", "0.1")
    with pytest.raises(CommandError, match=r"baseline rate must be between 0 and 1"):
        _experiment("power", "--metric-type", "proportion", "--baseline", "5", "--mde", "0.1")


def test_command_line_prints_one_json_document_and_fails_with_one_line(tmp_path):
    # given
    good = _write(tmp_path / "mean.csv", MEAN_CSV)
    bad = _write(tmp_path / "bad.csv", "variant,n,sum,sum_squares\na,10,5,30\nb,10,six,30\n")
    base = [sys.executable, "manage.py", "experiment", "analyze", "--metric-type", "mean"]
    base += ["--engine", "frequentist", "--json"]

    # when
    ok = subprocess.run(
        [*base, "--input", str(good)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    failed = subprocess.run(
        [*base, "--input", str(bad)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    # then
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["variants"][0]["variant"] == "b"
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert failed.stderr.strip().splitlines() == [
        f"CommandError: {bad}: line 3 (variant 'b'): 'sum' is not a number: 'six'"
    ]
