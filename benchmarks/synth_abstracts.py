"""A million abstract-like texts made from the real NSF and NIH abstracts, with planted twins.

How the texts are made (so that most of them are *not* near-duplicates of each other):

- The ~3,300 real abstracts are cut into sentences (~38,000). Every synthetic text draws as
  many sentences as a randomly chosen real abstract has, each from a random abstract, so a
  text recombines sentences from across the corpus and no two texts share a source abstract.
- The vocabulary is shuffled per "world" (a group of ~400 texts, 2,500 worlds in a million):
  the 500 most common words stay as they are, and every rarer word takes one of 64 spellings
  (``protein`` -> ``proteinqd``) picked by the word and the world. Two texts of different
  worlds share only common words and the odd coincidental spelling, like papers of unrelated
  fields; texts of one world share a sentence now and then, like boilerplate. This gives the
  corpus a realistic long tail (~2 million word types) instead of 30,000 words seen a million
  times each.
- Planted twins, each a new text next to an existing one (positions shuffled): ``exact`` (the
  same text), ``reworded`` (sentences reordered, 5% of words dropped, 5% changed to words of the
  same world, a few neighbours swapped) and ``partial`` (the first half of the source's
  sentences followed by the second half of another text: salami slicing).

``python benchmarks/synth_abstracts.py 100000 /tmp/synth-100k.jsonl`` writes one JSON object per
line: ``{"text": ...}``; the twins go to ``<file>.twins.json``. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
_SENT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w\w+|\W+|\w")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
COMMON = 500
VARIANTS = 64
PER_WORLD = 400
KINDS = ("exact", "reworded", "partial")


def real_abstracts() -> list[str]:
    out = []
    with (DATA / "nsf" / "awards.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            text = (json.loads(line).get("abstract") or "").strip()
            if len(text) > 200:
                out.append(text)
    csv.field_size_limit(10**8)
    with (DATA / "nih" / "nih_sample.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("ABSTRACT_TEXT") or "").strip()
            if len(text) > 200:
                out.append(text)
    return out


class Synthesiser:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        abstracts = real_abstracts()
        self.lengths = []
        sentences: list[str] = []
        for a in abstracts:
            parts = [s for s in _SENT.split(" ".join(a.split())) if len(s.split()) >= 4]
            if parts:
                self.lengths.append(len(parts))
                sentences.extend(parts)
        counts = Counter(w.lower() for s in sentences for w in re.findall(r"\w\w+", s))
        common = {w for w, _ in counts.most_common(COMMON)}
        ids = {w: k for k, w in enumerate(sorted(counts))}
        # Each sentence as pieces: (text, word id or -1 for common words and separators).
        self.sentences = []
        for s in sentences:
            pieces = []
            for piece in _WORD.findall(s):
                low = piece.lower()
                wid = ids.get(low, -1) if len(piece) > 1 and low not in common else -1
                pieces.append((piece, wid))
            self.sentences.append(pieces)
        self.suffix = [LETTERS[v // 8 + 10] + LETTERS[v % 8] for v in range(VARIANTS)]
        self.cache: dict[tuple[int, int], str] = {}

    def render(self, sentence: int, world: int) -> str:
        shift = world % 997
        key = (sentence, shift)
        got = self.cache.get(key)
        if got is None:
            parts = []
            for piece, wid in self.sentences[sentence]:
                if wid < 0:
                    parts.append(piece)
                else:
                    v = (wid * 2654435761 + shift * 40503) % 4294967291 % VARIANTS
                    parts.append(piece + self.suffix[v])
            got = "".join(parts)
            if len(self.cache) < 3_000_000:
                self.cache[key] = got
        return got

    def text(self, world: int) -> list[str]:
        k = self.rng.choice(self.lengths)
        picks = [self.rng.randrange(len(self.sentences)) for _ in range(k)]
        return [self.render(s, world) for s in picks]

    def reword(self, sents: list[str], donor: list[str]) -> str:
        rng = self.rng
        sents = list(sents)
        rng.shuffle(sents)
        vocab = " ".join(donor).split()
        out = []
        for sentence in sents:
            words = []
            for word in sentence.split():
                r = rng.random()
                if r < 0.05:
                    continue
                words.append(rng.choice(vocab) if r < 0.10 and vocab else word)
            for _ in range(len(words) // 20):
                k = rng.randrange(max(1, len(words) - 1))
                words[k : k + 2] = words[k : k + 2][::-1]
            out.append(" ".join(words))
        return " ".join(out)


def synthesise(
    n: int, *, twins_per_kind: int | None = None, seed: int = 0
) -> tuple[list[str], list[tuple[int, int, str]]]:
    """``n`` texts in all, of which ``3 * twins_per_kind`` are planted twins.

    Returns the texts and the twins as ``(i, j, kind)`` with ``i < j``.
    """
    syn = Synthesiser(seed)
    rng = syn.rng
    per_kind = twins_per_kind if twins_per_kind is not None else max(10, n // 1000)
    n_base = n - 3 * per_kind
    worlds = max(1, n_base // PER_WORLD)
    base_world = [rng.randrange(worlds) for _ in range(n_base)]
    base_sents = [syn.text(w) for w in base_world]
    items: list[tuple[str, int, str]] = [(" ".join(s), -1, "") for s in base_sents]
    sources = rng.sample(range(n_base), 3 * per_kind)
    for k, src in enumerate(sources):
        kind = KINDS[k // per_kind]
        if kind == "exact":
            text = items[src][0]
        elif kind == "reworded":
            donor = syn.text(base_world[src])
            text = syn.reword(base_sents[src], donor)
        else:
            other = base_sents[rng.randrange(n_base)]
            mine = base_sents[src]
            text = " ".join(mine[: max(1, len(mine) // 2)] + other[len(other) // 2 :])
        items.append((text, src, kind))
    order = list(range(len(items)))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    texts = [items[old][0] for old in order]
    twins = []
    for old, (_, src, kind) in enumerate(items):
        if src >= 0:
            a, b = position[src], position[old]
            twins.append((min(a, b), max(a, b), kind))
    twins.sort()
    return texts, twins


def write(n: int, path: Path, *, seed: int = 0) -> None:
    texts, twins = synthesise(n, seed=seed)
    with path.open("w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    Path(f"{path}.twins.json").write_text(json.dumps(twins))


def load(path: Path) -> tuple[list[str], list[tuple[int, int, str]]]:
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    twins = [tuple(t) for t in json.loads(Path(f"{path}.twins.json").read_text())]
    return texts, twins  # type: ignore[return-value]


def corpus(n: int, *, seed: int = 0, cache_dir: Path = Path("/tmp")) -> tuple[list[str], list]:
    """The ``n``-text corpus, generated once and cached as JSONL in ``cache_dir``."""
    path = cache_dir / f"stcoord-synth-{n}-{seed}.jsonl"
    if not (path.exists() and Path(f"{path}.twins.json").exists()):
        write(n, path, seed=seed)
    return load(path)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/stcoord-synth-{count}-0.jsonl")
    write(count, out)
    print(f"wrote {count} texts to {out}")
