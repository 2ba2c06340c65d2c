"""Portfolio screening at scale: our index against exact, brute force, MinHash LSH and plain TF-IDF.

    python benchmarks/bench_screen.py compare [N=100000]   # side by side on one corpus
    python benchmarks/bench_screen.py scale [N=1000000]    # full screen + a 10,000 batch query
    python benchmarks/bench_screen.py fit [N=1000000]      # fit alone: time and peak memory

The corpus comes from ``benchmarks/synth_abstracts.py`` (real NSF/NIH sentences recombined,
vocabulary shuffled per world, planted twins of three kinds), generated once and cached as
JSONL in /tmp; texts are read lazily from that file, so they do not count in the memory of the
screen. Every figure is printed with the 1-minute load average: this machine has 2 cores
shared with other workers, so wall times are upper bounds.

``compare`` prints, at the default threshold: our ``ann`` path (time, recall against the exact
pairs, recall of the planted twins), the ``exact`` path (pruned but exact), the brute-force
product (timed on a sample of row blocks and extrapolated, so the ratio is printed), datasketch
MinHash LSH (word 3-gram shingles, 128 permutations, the LSH threshold that does best on the
twins), and a plain scikit-learn TF-IDF word 1-2-gram baseline (recall of the twins at the
same cosine threshold).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

from benchlib import rss_mb, verdict
from synth_abstracts import corpus, synthesise

from stcoord.analytics.similarity import DEFAULT_THRESHOLD, Pair, Screener


def load_avg() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def stamp(label: str, seconds: float, extra: str = "") -> None:
    print(
        f"{label:<44} {seconds:9.1f} s   {extra}  [{load_avg()}, peak RSS {rss_mb():,.0f} MB]",
        flush=True,
    )


class JsonlTexts(Sequence[str]):
    """The ``text`` of each line of a JSONL file, read on demand (offsets kept in memory)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.path = path
        offsets = [0]
        with path.open("rb") as fh:
            for line in fh:
                offsets.append(offsets[-1] + len(line))
        self.offsets = np.array(offsets[:-1], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.offsets)

    @overload
    def __getitem__(self, k: int) -> str: ...
    @overload
    def __getitem__(self, k: slice) -> list[str]: ...
    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            start, stop, step = k.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if start >= stop:
                return []
            with self.path.open("rb") as fh:
                fh.seek(int(self.offsets[start]))
                return [json.loads(fh.readline())["text"] for _ in range(stop - start)]
        with self.path.open("rb") as fh:
            fh.seek(int(self.offsets[k]))
            return json.loads(fh.readline())["text"]


def twin_recall(found: set[tuple[int, int]], twins: list) -> str:
    parts = []
    for kind in ("exact", "reworded", "partial"):
        ks = [(i, j) for i, j, k in twins if k == kind]
        parts.append(f"{kind} {sum(p in found for p in ks) / len(ks):.3f}")
    allp = [(i, j) for i, j, _ in twins]
    parts.append(f"all {sum(p in found for p in allp) / len(allp):.3f}")
    return ", ".join(parts)


def ensure(n: int) -> tuple[JsonlTexts, list]:
    path = Path(f"/tmp/stcoord-synth-{n}-0.jsonl")
    if not (path.exists() and Path(f"{path}.twins.json").exists()):
        t0 = time.perf_counter()
        corpus(n)
        stamp(f"synthesised {n:,} texts", time.perf_counter() - t0)
    twins = [tuple(t) for t in json.loads(Path(f"{path}.twins.json").read_text())]
    return JsonlTexts(path), twins


def compare(n: int) -> None:
    t = DEFAULT_THRESHOLD
    texts, twins = ensure(n)
    print(f"corpus: {n:,} texts, {len(twins)} planted twins; threshold {t}; {load_avg()}")

    t0 = time.perf_counter()
    ours = Screener(method="ann", threshold=t).fit(texts)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ann_pairs = ours.pairs()
    ann_s = time.perf_counter() - t0
    stamp("ours (ann): fit", fit_s, f"{n / fit_s:,.0f} texts/s")
    stamp("ours (ann): all pairs", ann_s, f"{len(ann_pairs):,} pairs")

    t0 = time.perf_counter()
    exact = Screener(method="exact", threshold=t).fit(texts)
    ex_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex_pairs = exact.pairs()
    ex_s = time.perf_counter() - t0
    stamp("exact (pruned, lossless): fit", ex_fit)
    stamp("exact (pruned, lossless): all pairs", ex_s, f"{len(ex_pairs):,} pairs")
    truth = {(p.left, p.right) for p in ex_pairs}
    got = {(p.left, p.right) for p in ann_pairs}
    recall = len(truth & got) / max(1, len(truth))
    same_scores = all(
        p.score == q
        for p, q in zip(
            ann_pairs, (exact.similarity(p.left, p.right) for p in ann_pairs), strict=True
        )
    )
    print(
        f"ours vs exact: recall {recall:.4f} ({len(truth & got)}/{len(truth)}), "
        f"no extra pairs: {got <= truth}, same scores: {same_scores}"
    )
    print(f"planted twins found: ours {twin_recall(got, twins)}")
    print(f"planted twins found: exact {twin_recall(truth, twins)}")

    # Brute force: every row block times the whole matrix, timed on a sample of blocks.
    x = exact.X_
    xt = x.T.tocsr()
    block = 500
    sample = [0, n // 3, 2 * n // 3]
    t0 = time.perf_counter()
    for lo in sample:
        prod = x[lo : lo + block] @ xt
        del prod
    per_block = (time.perf_counter() - t0) / len(sample)
    brute = per_block * (n / block)
    stamp(
        "brute force product (extrapolated)",
        brute,
        f"{len(sample)} blocks of {block} timed; ours is {brute / (fit_s + ann_s):.0f}x faster "
        f"end to end, {brute / ann_s:.0f}x on the pairs",
    )
    del xt, exact

    minhash(texts, twins, truth, t, fit_s + ann_s)
    plain_tfidf(texts, twins, t)
    verdict(f"recall >= 0.95 of exact pairs on {n:,}", recall >= 0.95)


def shingles(text: str) -> list[bytes]:
    import re

    words = re.findall(r"\w\w+", text.lower())
    return [" ".join(words[k : k + 3]).encode() for k in range(max(1, len(words) - 2))]


def minhash(texts: Sequence[str], twins: list, truth: set, t: float, ours_s: float) -> None:
    from datasketch import MinHash, MinHashLSH

    n = len(texts)
    t0 = time.perf_counter()
    sigs = []
    step = 20_000
    for lo in range(0, n, step):
        batch = texts[lo : lo + step]
        sigs.extend(MinHash.bulk([shingles(s) for s in batch], num_perm=128))
    sig_s = time.perf_counter() - t0
    stamp("MinHash: signatures (128 perms)", sig_s)
    for lsh_t in (0.3, 0.5):
        t0 = time.perf_counter()
        lsh = MinHashLSH(threshold=lsh_t, num_perm=128)
        for k, m in enumerate(sigs):
            lsh.insert(k, m, check_duplication=False)
        found = set()
        for k, m in enumerate(sigs):
            for other in lsh.query(m):
                if other != k:
                    found.add((min(k, other), max(k, other)))
        lsh_s = time.perf_counter() - t0
        total = sig_s + lsh_s
        rec = len(found & truth) / max(1, len(truth))
        stamp(
            f"MinHash LSH threshold {lsh_t}: index+query",
            lsh_s,
            f"total {total:.0f} s vs ours {ours_s:.0f} s; candidates {len(found):,}; "
            f"recall of exact cosine pairs {rec:.3f}; twins {twin_recall(found, twins)}",
        )
        del lsh


def plain_tfidf(texts: Sequence[str], twins: list, t: float) -> None:
    """scikit-learn TfidfVectorizer (word 1-2-grams): which planted twins reach the threshold."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = min(len(texts), 100_000)
    t0 = time.perf_counter()
    sample = texts[:n]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    x = vec.fit_transform(sample)
    fit_s = time.perf_counter() - t0
    pairs = [(i, j) for i, j, _ in twins if j < n]
    scores = np.asarray(x[[i for i, _ in pairs]].multiply(x[[j for _, j in pairs]]).sum(axis=1))
    found = {p for p, s in zip(pairs, scores.ravel(), strict=True) if s >= t}
    stamp(
        f"plain TF-IDF 1-2-grams (sklearn) on {n:,}: fit",
        fit_s,
        f"twins at cosine >= {t}: {twin_recall(found, [w for w in twins if w[1] < n])}",
    )


def scale(n: int) -> None:
    t = DEFAULT_THRESHOLD
    texts, twins = ensure(n)
    print(f"corpus: {n:,} texts, {len(twins)} planted twins; threshold {t}; {load_avg()}")
    t_start = time.perf_counter()
    s = Screener(threshold=t, method="ann").fit(texts)
    fit_s = time.perf_counter() - t_start
    stamp(f"fit {n:,} texts", fit_s, f"{n / fit_s:,.0f} texts/s; nnz/text {s.X_.nnz / n:.0f}")
    found: list[Pair] = []
    t0 = time.perf_counter()
    for done, total, chunk in s.iter_pairs(chunk_size=20_000):
        found.extend(chunk)
        if done % 10 == 0 or done == total:
            stamp(f"  pairs: chunk {done}/{total}", time.perf_counter() - t0, f"{len(found):,}")
    pairs_s = time.perf_counter() - t0
    total_s = time.perf_counter() - t_start
    got = {(p.left, p.right) for p in found}
    stamp(
        f"screen of {n:,}: fit + all pairs",
        total_s,
        f"{len(found):,} pairs; twins {twin_recall(got, twins)}",
    )
    verdict("1M screen under 15 minutes", total_s < 900)
    verdict("peak memory under 8 GB", rss_mb() < 8192)

    # A batch of 10,000 new proposals: a third reworded copies of portfolio texts, the rest new.
    new_texts, _ = synthesise(10_000, twins_per_kind=0, seed=7)
    import random

    rng = random.Random(3)
    picks = rng.sample(range(n), 3_000)
    batch = (
        [texts[k] for k in picks[:1_500]]
        + [" ".join(reversed(texts[k].split(". "))) for k in picks[1_500:]]
        + new_texts[:7_000]
    )
    t0 = time.perf_counter()
    hits = s.query(batch)
    q_s = time.perf_counter() - t0
    expect = {(k, picks[k]) for k in range(3_000)}
    got_q = {(p.left, p.right) for p in hits}
    stamp(
        "batch of 10,000 against the portfolio",
        q_s,
        f"{len(hits):,} hits; planted copies found {len(expect & got_q) / len(expect):.3f}",
    )
    verdict("batch of 10,000 under 60 s", q_s < 60)
    print(f"pairs took {pairs_s:.0f} s of the {total_s:.0f} s")


def fit_only(n: int) -> None:
    """Fit alone: its time and the peak memory of the process."""
    texts, _ = ensure(n)
    t0 = time.perf_counter()
    s = Screener(threshold=DEFAULT_THRESHOLD, method="ann").fit(texts)
    stamp(f"fit {n:,} texts", time.perf_counter() - t0, f"nnz/text {s.X_.nnz / n:.0f}")
    verdict("peak memory under 8 GB", rss_mb() < 8192)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "compare"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else (100_000 if what == "compare" else 1_000_000)
    {"compare": compare, "scale": scale, "fit": fit_only}[what](size)
