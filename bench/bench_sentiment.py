"""Sentiment: accuracy and throughput of a model on the held-out split of the labelled data.

    .venv/bin/python bench/bench_sentiment.py [--model PATH] [--data DIR] [--fp32-sample N]

The held-out rows are the ones `sentiment train --output` keeps out of training with the same
seed (20% of each label of each file: `services.sentiment.holdout_split`), so the shipped
head is measured on texts it never saw. DIR (default ../shared/data/sentiment) holds
en_train.csv and zh_train.csv (development data, not part of the product).

Throughput is end-to-end `SentimentModel.predict` on the held-out texts at their real length
(tokenisation, batching by length, int8 on CPU), in one process with torch's default threads.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmkt.settings.local")
os.environ.setdefault("SMARTMKT_READ_DOTENV", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="Model file (default: the shipped head).")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "sentiment"))
    parser.add_argument(
        "--fp32-sample", type=int, default=400, help="Texts to compare with float32."
    )
    options = parser.parse_args()

    import django

    django.setup()
    import torch

    from apps.insights.engine.sentiment import SentimentModel, evaluate
    from apps.insights.engine.text import text_clean
    from apps.insights.services.runtime import SHIPPED_HEAD
    from apps.insights.services.sentiment import holdout_split, labelled_read

    path = Path(options.model) if options.model else SHIPPED_HEAD
    started = time.perf_counter()
    model = SentimentModel.load(path)
    load_seconds = time.perf_counter() - started
    seed = model.config.seed
    document: dict[str, object] = {
        "model": path.name,
        "config": vars(model.config),
        "load_seconds": round(load_seconds, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "languages": {},
    }
    all_texts: list[str] = []
    for language in ("en", "zh"):
        data = labelled_read(Path(options.data) / f"{language}_train.csv")
        _, test = holdout_split(data, holdout=0.2, seed=seed)
        texts = [text_clean(text) for text in test.texts]
        model.predict(texts[:64])  # warm-up
        result = evaluate(model, texts, test.labels)
        banded = model.config
        model.config = dataclasses.replace(banded, neutral_band=0.0)  # forced choice
        binary = evaluate(model, texts, test.labels)
        model.config = banded
        document["languages"][language] = {  # type: ignore[index]
            "texts": result.texts,
            "accuracy": result.accuracy,
            "accuracy_without_neutral_band": binary.accuracy,
            "macro_f1_without_neutral_band": binary.macro_f1,
            "macro_f1": result.macro_f1,
            "neutral_share": result.neutral_share,
            "texts_per_second": result.texts_per_second,
            "mean_characters": round(sum(map(len, texts)) / len(texts), 1),
        }
        all_texts.extend(texts)
    started = time.perf_counter()
    model.predict(all_texts)
    seconds = time.perf_counter() - started
    document["mixed_texts_per_second"] = round(len(all_texts) / seconds, 1)
    sample = all_texts[:: max(1, len(all_texts) // options.fp32_sample)][: options.fp32_sample]
    if sample:
        fp32 = SentimentModel.load(path, quantise=False)
        started = time.perf_counter()
        exact = fp32.predict(sample)
        fp32_seconds = time.perf_counter() - started
        quantised = model.predict(sample)
        document["fp32_texts_per_second"] = round(len(sample) / fp32_seconds, 1)
        document["int8_agreement_with_fp32"] = round(
            sum(a.label == b.label for a, b in zip(exact, quantised, strict=True)) / len(sample), 4
        )
    document["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(document, indent=2, default=str))


if __name__ == "__main__":
    main()
