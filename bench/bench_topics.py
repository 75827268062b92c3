"""LDA topic discovery time and peak memory at 100,000 short reviews (`topics.lda_fit`, the
choice of the number of topics included).

The corpus is synthetic and already tokenised, as `text.tokens` would give it: 8 themes of a
fashion shop (delivery, fabric quality, sizing, price, customer service, colour and looks,
packaging, washing and care), each with its own English and Chinese vocabulary; about 30% of
the reviews are Chinese. A review has 10-40 terms: one main theme (and, one time in four, a
second one), generic review words of its language drawn Zipf-like (rank^-1.1) from 89 English
or 43 Chinese ones, and, in 30% of reviews, one of 30,000 made-up words (brand names, typos) that the
dictionary filter should drop. The two languages share no words, so the corpus holds 16 true
groups (theme x language); `purity` and `inverse_purity` say how the dominant topics match them.
Seeded: every run sees the same corpus. Prints one JSON line on stdout, progress on stderr.

    .venv/bin/python bench/bench_topics.py [--documents 100000] [--seed 7]
        [--k 4,8,12,16,20] [--passes N]     # default: the engine's candidates
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.insights.engine import topics  # noqa: E402

THEMES: dict[str, tuple[str, str]] = {
    "delivery": (
        "delivery shipping arrived late slow courier package tracking days week "
        "shipped dispatch parcel lost delayed post warehouse fast quick",
        "物流 快递 发货 送货 到货 慢 快 包裹 单号 配送 延迟 几天 速度 快递员",
    ),
    "fabric": (
        "fabric material quality cotton soft thin thick stitching seams durable "
        "texture wool linen sturdy cheap flimsy threads",
        "面料 质量 做工 柔软 舒服 布料 纯棉 厚实 线头 手感 质感 粗糙 起球",
    ),
    "sizing": (
        "size fit small large tight loose waist length chart measurements "
        "sizing bigger smaller sleeves shoulders petite runs",
        "尺码 大小 偏小 偏大 合身 腰围 码数 身高 体重 宽松 紧 袖子 肩膀",
    ),
    "price": (
        "price value money worth expensive cheap bargain discount sale "
        "affordable overpriced deal coupon pricey budget",
        "价格 性价比 便宜 划算 优惠 折扣 值得 太贵 实惠 活动 降价 价钱",
    ),
    "service": (
        "service customer seller refund return support response reply "
        "email exchange helpful rude replacement contacted",
        "客服 退货 退款 售后 态度 回复 卖家 换货 处理 耐心 解决 服务",
    ),
    "looks": (
        "color colour pretty beautiful style design photo pictures looks "
        "cute elegant shade bright faded print pattern",
        "颜色 好看 漂亮 款式 设计 图片 色差 百搭 时尚 显瘦 可爱 洋气 上身",
    ),
    "packaging": (
        "packaging box wrapped gift bag packed damaged crushed plastic "
        "wrapping label sealed envelope present",
        "包装 盒子 礼物 袋子 破损 包得 严实 精美 塑料袋 送人 礼盒 密封",
    ),
    "care": (
        "wash washing shrink shrank machine dryer iron wrinkles bleed "
        "laundry faded stains cold hand detergent",
        "洗 缩水 掉色 机洗 手洗 熨烫 褪色 起皱 晾干 洗后 变形 染色",
    ),
}

GENERIC_EN = (
    "great good love nice really like perfect recommend happy disappointed bad ok okay "
    "excellent amazing awesome terrible poor decent fine wear wore bought buy order ordered "
    "item product dress shirt jeans jacket top pants skirt sweater coat shoes store shop "
    "daughter son wife husband friend mom summer winter party work office everyday "
    "comfortable nicely definitely totally absolutely pretty little bit lot time times "
    "second first new old online brand quite actually just expected expectations description "
    "star stars overall thanks thank wish want need looking got received use used lovely"
).split()
GENERIC_ZH = (
    "好 不错 喜欢 满意 推荐 一般 失望 衣服 裙子 裤子 外套 鞋子 宝贝 买 购买 收到 穿 "
    "店家 东西 值 好评 差评 还行 第一次 回购 朋友 老公 女儿 夏天 冬天 上班 日常 感觉 "
    "非常 特别 真的 有点 比较 挺 期待 描述 实物 一致"
).split()


def synthetic_reviews(documents: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """`documents` token lists and each one's true group: main theme x 2 + language (0 English,
    1 Chinese); the two languages share no words, so LDA sees 16 groups (see the docstring)."""
    rng = np.random.default_rng(seed)
    english = [theme[0].split() for theme in THEMES.values()]
    chinese = [theme[1].split() for theme in THEMES.values()]
    generic = [np.array(GENERIC_EN), np.array(GENERIC_ZH)]
    zipf = []
    for words in generic:
        weights = 1.0 / np.arange(1, len(words) + 1) ** 1.1
        zipf.append(weights[rng.permutation(len(words))] / weights.sum())
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    tail = ["".join(rng.choice(letters, rng.integers(4, 9))) for _ in range(30_000)]
    theme_weights = np.array([0.22, 0.18, 0.16, 0.12, 0.1, 0.1, 0.07, 0.05])
    mains = rng.choice(len(THEMES), documents, p=theme_weights)
    languages = (rng.random(documents) < 0.3).astype(np.int64)
    out: list[list[str]] = []
    for main, language in zip(mains, languages, strict=True):
        words = (english, chinese)[language]
        length = int(rng.integers(10, 41))
        themed = int(round(length * rng.uniform(0.35, 0.6)))
        picks = list(rng.choice(words[main], themed))
        if rng.random() < 0.25:
            second = int(rng.integers(0, len(THEMES)))
            picks[: themed // 3] = list(rng.choice(words[second], themed // 3))
        rare = int(rng.random() < 0.3)
        picks += list(rng.choice(generic[language], length - themed - rare, p=zipf[language]))
        picks += [tail[int(rng.integers(0, len(tail)))] for _ in range(rare)]
        rng.shuffle(picks)
        out.append([str(word) for word in picks])
    return out, mains * 2 + languages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", default="", help="candidate topic counts, e.g. 4,6,8,10,12")
    parser.add_argument("--passes", type=int, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    documents, truth = synthetic_reviews(args.documents, args.seed)
    generated = time.perf_counter() - started
    print(f"generated {len(documents)} documents in {generated:.1f}s", file=sys.stderr)

    def progress(percent: float, message: str) -> None:
        print(f"  {percent:5.1f}% {message}", file=sys.stderr, flush=True)

    options: dict[str, object] = {"seed": args.seed, "progress": progress}
    if args.k:
        options["k_candidates"] = tuple(int(k) for k in args.k.split(","))
    if args.passes:
        options["passes"] = args.passes
    started = time.perf_counter()
    result = topics.lda_fit(documents, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    purity = _purity(result, truth)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "documents": len(documents),
                "terms": int(sum(len(d) for d in documents)),
                "chosen_k": result.chosen_k,
                "coherence": {str(k): round(v, 4) for k, v in result.coherence.items()},
                "seconds": round(seconds, 1),
                "engine_seconds": round(result.seconds, 1),
                **purity,
                "labels": [topic.label for topic in result.topics],
                "peak_rss_mb": round(peak_kib / 1024, 1),
                "python": platform.python_version(),
            },
            ensure_ascii=False,
        )
    )


def _purity(result: topics.TopicResult, truth: np.ndarray) -> dict[str, float]:
    """How dominant topics match the true groups: `purity` (each topic counted as its commonest
    group) and `inverse_purity` (each group counted as its commonest topic)."""
    dominant = np.array([weights[0][0] if weights else -1 for weights in result.document_topics])
    kept = dominant >= 0
    table = np.zeros((result.chosen_k, int(truth.max()) + 1), dtype=np.int64)
    np.add.at(table, (dominant[kept], truth[kept]), 1)
    return {
        "purity": round(float(table.max(axis=1).sum()) / len(truth), 4),
        "inverse_purity": round(float(table.max(axis=0).sum()) / len(truth), 4),
    }


if __name__ == "__main__":
    main()
