"""Sentiment of English and Chinese texts: a fine-tuned multilingual transformer.

The model: the first `layers` (6 of 12) layers of multilingual-e5-small (see `encoder`), mean
pooled, then a linear head over the labels. Training ("adapter" mode, the default, fine on a
CPU) learns LoRA adapters (rank 16) on every linear layer, the layer norms and the head: about
0.7M parameters, a 2.7 MB file, which is what ships in `assets/`. "full" mode trains every
layer weight (the GPU path; a 45 MB file). Cutting the top six layers halves the cost and,
once fine-tuned, loses little (Sajjad et al. 2023, "On the effect of dropping layers").

Scores: `score = P(positive) - P(negative)`, in [-1, 1]. A model trained on three labels
predicts neutral itself; one trained on positive/negative only calls a text neutral when
|score| < `neutral_band` (0.2: both labels about equally likely).

Float32 by default. `quantise=True` runs the linear layers int8 on CPU (dynamic quantisation):
about twice as fast, but 1-3 points less accurate on held-out reviews and a little dependent
on the batch (activations are scaled per batch); see docs/benchmarks.md.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from apps.insights.engine import encoder as enc

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)
ADAPTER, FULL = "adapter", "full"
LORA_TARGETS = (
    "query",
    "key",
    "value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
FORMAT = "smartmkt.sentiment/1"

Progress = Callable[[float, str], None]


class SentimentDataError(ValueError):
    """Training data that cannot train a model (names the row or the problem)."""


@dataclass(frozen=True)
class SentimentConfig:
    """How a sentiment model is built and trained (stored with it)."""

    layers: int = 6
    max_tokens: int = 128
    mode: str = ADAPTER
    lora_rank: int = 16
    epochs: int = 2
    learning_rate: float = 5e-4
    batch_size: int = 16
    seed: int = 0
    neutral_band: float = 0.2

    def validate(self) -> None:
        if not 1 <= self.layers <= enc.FULL_LAYERS:
            raise ValueError(f"layers must be 1-{enc.FULL_LAYERS}")
        if not 16 <= self.max_tokens <= 512:
            raise ValueError("max_tokens must be 16-512")
        if self.mode not in (ADAPTER, FULL):
            raise ValueError(f"mode must be {ADAPTER} or {FULL}")
        if not 1 <= self.lora_rank <= 128:
            raise ValueError("lora_rank must be 1-128")
        if not 1 <= self.epochs <= 20:
            raise ValueError("epochs must be 1-20")
        if not 0 < self.learning_rate < 1:
            raise ValueError("learning_rate must be between 0 and 1")
        if not 1 <= self.batch_size <= 512:
            raise ValueError("batch_size must be 1-512")
        if not 0 <= self.neutral_band < 1:
            raise ValueError("neutral_band must be in [0, 1)")


@dataclass(frozen=True)
class Prediction:
    """One text's sentiment: label, score in [-1, 1], and the model's class probabilities."""

    label: str
    score: float
    probabilities: dict[str, float] = field(default_factory=dict)


def label_normalise(value: str, row: int) -> str:
    """Accept the usual spellings of the three labels ("pos", "1", "-1", "负面" ...)."""
    text = str(value).strip().lower()
    aliases = {
        POSITIVE: {"positive", "pos", "p", "1", "+1", "good", "正面", "积极", "好评"},
        NEGATIVE: {"negative", "neg", "n", "-1", "0", "bad", "负面", "消极", "差评"},
        NEUTRAL: {"neutral", "neu", "mixed", "中性", "中评"},
    }
    for label, names in aliases.items():
        if text in names:
            return label
    raise SentimentDataError(f"Row {row}: label {value!r} is not positive, negative or neutral")


def _build(config: SentimentConfig, labels: Sequence[str], device: str) -> tuple[Any, Any]:
    """(encoder, head) ready to train or to receive trained weights."""
    import torch

    model = enc.bert_build(layers=config.layers)
    if config.mode == ADAPTER:
        from peft import LoraConfig, get_peft_model

        for parameter in model.parameters():
            parameter.requires_grad = False
        lora = LoraConfig(
            r=config.lora_rank,
            lora_alpha=2 * config.lora_rank,
            lora_dropout=0.1,
            target_modules=list(LORA_TARGETS),
            bias="none",
        )
        model = get_peft_model(model, lora)
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name and "embeddings" not in name:
                parameter.requires_grad = True
    else:
        for name, parameter in model.named_parameters():
            parameter.requires_grad = not name.startswith("embeddings.")
    head = torch.nn.Linear(enc.HIDDEN, len(labels))
    return model.to(device), head.to(device)


def _trained_state(model: Any, head: Any) -> dict[str, Any]:
    state = {
        f"encoder.{name}": p.detach().cpu().contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }
    state.update(
        {f"head.{name}": p.detach().cpu().contiguous() for name, p in head.state_dict().items()}
    )
    return state


class SentimentModel:
    """A trained sentiment model, ready to predict (weights merged, int8 on CPU)."""

    def __init__(
        self,
        *,
        config: SentimentConfig,
        labels: Sequence[str],
        state: dict[str, Any],
        metrics: dict[str, Any] | None = None,
        device: str = "cpu",
        quantise: bool = False,
    ) -> None:
        import torch

        self.config = config
        self.labels = tuple(labels)
        self.metrics = dict(metrics or {})
        self.device = device
        self._state = state
        model, head = _build(config, self.labels, "cpu")
        encoder_state = {
            name[len("encoder.") :]: value
            for name, value in state.items()
            if name.startswith("encoder.")
        }
        missing = set(encoder_state) - {name for name, _ in model.named_parameters()}
        if missing:
            raise ValueError(f"Sentiment weights do not fit the model: {sorted(missing)[:3]}")
        model.load_state_dict(encoder_state, strict=False)
        head.load_state_dict(
            {
                name[len("head.") :]: value
                for name, value in state.items()
                if name.startswith("head.")
            }
        )
        if config.mode == ADAPTER:
            model = model.merge_and_unload()
        model.eval()
        head.eval()
        if device == "cpu" and quantise:
            model = enc.quantise_for_cpu(model)
        self._model = model.to(device)
        self._head = head.to(device)
        path = str(enc.weights_path())
        self._tokenizer = enc.tokenizer_load(path)
        self._table = enc.word_table(path)
        self._torch = torch

    def probabilities(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities (len(texts) x len(labels)), in input order."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not texts:
            return out
        ids = self._tokenizer.encode(texts, max_tokens=self.config.max_tokens)
        with self._torch.inference_mode():
            for batch in enc.in_length_order(ids, batch_size):
                input_ids, mask = enc.batch_tensors([ids[i] for i in batch], self.device)
                pooled = enc.forward_pooled(self._model, self._table, input_ids, mask)
                out[batch] = self._torch.softmax(self._head(pooled.float()), dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str], *, batch_size: int = 64) -> list[Prediction]:
        """Label and score per text, in input order. Empty texts are neutral with score 0."""
        present = [index for index, text in enumerate(texts) if text and text.strip()]
        probabilities = self.probabilities([texts[i] for i in present], batch_size=batch_size)
        results = [Prediction(NEUTRAL, 0.0, {})] * len(texts)
        for row, index in enumerate(present):
            results[index] = self._prediction(probabilities[row])
        return results

    def _prediction(self, probabilities: np.ndarray) -> Prediction:
        by_label = {label: float(probabilities[i]) for i, label in enumerate(self.labels)}
        score = by_label.get(POSITIVE, 0.0) - by_label.get(NEGATIVE, 0.0)
        if NEUTRAL in by_label:
            label = max(by_label, key=lambda name: by_label[name])
        elif abs(score) < self.config.neutral_band:
            label = NEUTRAL
        else:
            label = POSITIVE if score > 0 else NEGATIVE
        return Prediction(label, round(score, 4), {k: round(v, 4) for k, v in by_label.items()})

    def save(self, path: Path) -> None:
        """One safetensors file: the trained weights, and the config and metrics as metadata."""
        from safetensors.torch import save_file

        metadata = {
            "format": FORMAT,
            "config": json.dumps(asdict(self.config)),
            "labels": json.dumps(list(self.labels)),
            "metrics": json.dumps(self.metrics),
        }
        save_file(self._state, str(path), metadata=metadata)

    @staticmethod
    def metadata(path: Path) -> dict[str, Any]:
        """The config, labels and metrics stored in a model file, without loading weights."""
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
        if raw.get("format") != FORMAT:
            raise ValueError(f"{path} is not a SmartMkt sentiment model")
        return {
            "config": json.loads(raw["config"]),
            "labels": json.loads(raw["labels"]),
            "metrics": json.loads(raw.get("metrics", "{}")),
        }

    @classmethod
    def load(cls, path: Path, *, device: str = "cpu", quantise: bool = False) -> SentimentModel:
        from safetensors.torch import load_file

        metadata = cls.metadata(path)
        return cls(
            config=SentimentConfig(**metadata["config"]),
            labels=metadata["labels"],
            state=load_file(str(path)),
            metrics=metadata["metrics"],
            device=device,
            quantise=quantise,
        )


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    config: SentimentConfig | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> SentimentModel:
    """Train a model on labelled texts (labels already normalised to LABELS)."""
    import torch

    config = config or SentimentConfig()
    config.validate()
    classes = tuple(label for label in LABELS if label in set(labels))
    if len(texts) != len(labels):
        raise SentimentDataError("texts and labels differ in length")
    if len(classes) < 2:
        raise SentimentDataError("Training needs at least two different labels")
    counts = {label: list(labels).count(label) for label in classes}
    if min(counts.values()) < 5:
        raise SentimentDataError(f"Each label needs at least 5 texts; got {counts}")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model, head = _build(config, classes, device)
    model.train()
    tokenizer = enc.tokenizer_load(str(enc.weights_path()))
    table = enc.word_table(str(enc.weights_path())).to(device)
    ids = tokenizer.encode(texts, max_tokens=config.max_tokens)
    targets = np.array([classes.index(label) for label in labels], dtype=np.int64)
    parameters = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    learning_rate = (
        config.learning_rate if config.mode == ADAPTER else min(config.learning_rate, 5e-5)
    )
    optimiser = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    per_epoch = math.ceil(len(ids) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=learning_rate,
        total_steps=config.epochs * per_epoch,
        pct_start=0.06,
        anneal_strategy="linear",
    )
    started = time.monotonic()
    step = 0
    for epoch in range(config.epochs):
        batches = _length_bucketed(ids, config.batch_size, rng)
        for batch in batches:
            input_ids, mask = enc.batch_tensors([ids[i] for i in batch], device)
            logits = head(enc.forward_pooled(model, table, input_ids, mask))
            loss = torch.nn.functional.cross_entropy(
                logits, torch.as_tensor(targets[batch], device=device)
            )
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimiser.step()
            scheduler.step()
            step += 1
            if progress is not None and step % 20 == 0:
                done = step / (config.epochs * per_epoch)
                progress(100 * done, f"Epoch {epoch + 1}/{config.epochs}, loss {loss.item():.3f}")
    state = _trained_state(model, head)
    metrics = {
        "train_texts": len(texts),
        "train_seconds": round(time.monotonic() - started, 1),
        "label_counts": counts,
    }
    return SentimentModel(
        config=config, labels=classes, state=state, metrics=metrics, device=device
    )


def _length_bucketed(
    ids: Sequence[Sequence[int]], batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle
    the batches. Padding stays small and every epoch sees a different order."""
    order = rng.permutation(len(ids))
    chunk = batch_size * 50
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        batches.extend(np.array(part[i : i + batch_size]) for i in range(0, len(part), batch_size))
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


@dataclass(frozen=True)
class Evaluation:
    """How a model does on labelled texts."""

    accuracy: float
    macro_f1: float
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    texts: int
    texts_per_second: float
    neutral_share: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(model: SentimentModel, texts: Sequence[str], labels: Sequence[str]) -> Evaluation:
    """Accuracy, macro F1 and the confusion matrix. On binary data a neutral prediction
    counts as wrong (it is not the label); `neutral_share` says how often that happened."""
    started = time.perf_counter()
    predictions = model.predict(texts)
    seconds = time.perf_counter() - started
    predicted = [p.label for p in predictions]
    names = [label for label in LABELS if label in set(labels) | set(predicted)]
    confusion = {truth: {guess: 0 for guess in names} for truth in names}
    for truth, guess in zip(labels, predicted, strict=True):
        confusion[truth][guess] += 1
    per_label: dict[str, dict[str, float]] = {}
    for label in names:
        true_positive = confusion[label][label]
        predicted_count = sum(confusion[truth][label] for truth in names)
        actual_count = sum(confusion[label].values())
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / actual_count if actual_count else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": actual_count,
        }
    scored = [label for label in names if per_label[label]["support"]]
    correct = sum(confusion[label][label] for label in names)
    return Evaluation(
        accuracy=round(correct / max(len(labels), 1), 4),
        macro_f1=round(sum(per_label[label]["f1"] for label in scored) / max(len(scored), 1), 4),
        per_label=per_label,
        confusion=confusion,
        texts=len(labels),
        texts_per_second=round(len(labels) / seconds, 1) if seconds > 0 else 0.0,
        neutral_share=round(predicted.count(NEUTRAL) / max(len(predicted), 1), 4),
    )
