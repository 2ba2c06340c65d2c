"""Consensus analysis at scale: 10,000 and 30,000 participants x 2,000 statements, ~5 % voted.

Targets (issue 6): 10,000 x 2,000 analysed under 10 s and under 2 GB; 30,000 participants within
3.5x the time of 10,000. Each size runs in a fresh subprocess so its peak memory is its own.
The synthetic conversation has four opinion camps (each participant leans to one camp's view of
every statement, with noise and passes); the check that the analysis finds them is printed too.

    .venv/bin/python benchmarks/bench_consensus.py            # both sizes, plus Vote objects
    .venv/bin/python benchmarks/bench_consensus.py --one 10000 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from benchlib import rss_mb, verdict

from stcoord.analytics.consensus import Vote, VoteMatrix, adjusted_rand_index, analyze

CAMPS = 3


def synthetic_matrix(
    n_participants: int, n_statements: int, density: float, seed: int = 0
) -> VoteMatrix:
    """A sparse conversation with ``CAMPS`` opinion camps (participant ``i`` is in camp
    ``i % CAMPS``); every participant votes on about ``density`` of the statements."""
    rng = np.random.default_rng(seed)
    camp_view = rng.choice([-1, 1], size=(CAMPS, n_statements))
    per = rng.binomial(n_statements, density, size=n_participants).clip(1, n_statements)
    rows = np.repeat(np.arange(n_participants), per)
    # statements each participant saw: random, without caring for rare repeats (deduplicated)
    cols = rng.integers(0, n_statements, size=len(rows))
    camp = rows % CAMPS
    agree_with_camp = rng.random(len(rows)) < 0.8
    values = np.where(agree_with_camp, camp_view[camp, cols], -camp_view[camp, cols])
    values = np.where(rng.random(len(rows)) < 0.1, 0, values)
    return VoteMatrix.from_arrays(rows, cols, values)


def run_one(n_participants: int, n_statements: int, density: float, objects: bool) -> dict:
    vm = synthetic_matrix(n_participants, n_statements, density)
    build_s = 0.0
    votes_in: VoteMatrix | list[Vote] = vm
    if objects:
        start = time.perf_counter()
        votes_in = [
            Vote(vm.participants[r], vm.statements[c], int(v))
            for r, c, v in zip(vm.rows.tolist(), vm.cols.tolist(), vm.values.tolist(), strict=True)
        ]
        build_s = time.perf_counter() - start
    start = time.perf_counter()
    result = analyze(votes_in)
    elapsed = time.perf_counter() - start
    truth = {p: int(p) % CAMPS for p in result.in_conversation}
    return {
        "participants": n_participants,
        "statements": n_statements,
        "votes": len(vm.values),
        "seconds": elapsed,
        "build_votes_seconds": build_s,
        "peak_mb": rss_mb(),
        "groups": len(result.groups),
        "ari_vs_camps": adjusted_rand_index(result.group_of(), truth),
        "objects": objects,
    }


def in_subprocess(n: int, m: int, density: float, objects: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--one", str(n), str(m), "--density", str(density)]
    if objects:
        cmd.append("--objects")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def show(r: dict) -> None:
    kind = "Vote objects" if r["objects"] else "VoteMatrix"
    extra = f" (+{r['build_votes_seconds']:.2f} s building them)" if r["objects"] else ""
    print(
        f"{r['participants']:>6} x {r['statements']} ({r['votes']:,} votes, {kind}): "
        f"{r['seconds']:.2f} s{extra}, peak {r['peak_mb']:.0f} MB, {r['groups']} groups, "
        f"ARI vs planted camps {r['ari_vs_camps']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, type=int, metavar=("PARTICIPANTS", "STATEMENTS"))
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--objects", action="store_true", help="pass a list of Vote objects")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.density, args.objects)))
        return
    small = in_subprocess(10_000, 2_000, args.density)
    show(small)
    large = in_subprocess(30_000, 2_000, args.density)
    show(large)
    objects = in_subprocess(10_000, 2_000, args.density, objects=True)
    show(objects)
    ratio = large["seconds"] / small["seconds"]
    print(f"30,000 / 10,000 time ratio: {ratio:.2f}")
    verdict("10,000 x 2,000 under 10 s", small["seconds"] < 10)
    verdict("10,000 x 2,000 under 2 GB", small["peak_mb"] < 2048)
    verdict("30,000 within 3.5x the time of 10,000", ratio <= 3.5)
    verdict("planted camps found (ARI >= 0.9)", small["ari_vs_camps"] >= 0.9)


if __name__ == "__main__":
    main()
