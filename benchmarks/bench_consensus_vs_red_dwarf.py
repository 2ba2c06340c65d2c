"""Opinion groups against Polis's own, side by side with red-dwarf; and timing at scale.

For every conversation in ../shared/data/polis/ (openData exports: Polis's recorded ``group-id``
in participants-votes.csv comes from its last math run; comments with ``moderated = -1`` are
excluded from the math) and every polis-math case in ../shared/data/polis-math/, prints the
adjusted Rand index (ARI) between Polis's groups and

- ``ours``: :func:`stcoord.analytics.consensus.analyze` on the votes alone (with their times
  it replays Polis's earlier runs, ``replay="auto"``, unless runs x participants exceed
  ``REPLAY_MAX_WORK``), no Polis state;
- ``red-dwarf``: ``reddwarf.implementations.polis.run_pipeline`` from scratch (its defaults:
  no base clusters, k-means on participants, silhouette over participants), same votes, same
  moderated-out statements, same seed;
- ``ours, continued``: our analysis continuing from Polis's recorded groups
  (``analyze(previous=...)``), i.e. what Polis's next math run would start from;
- ``base``: (polis-math cases only) our group step from scratch over Polis's own base
  clusters: ``previous`` carries them with no groups and no k smoother;
- ``always`` (with ``--replay-always``): ``analyze(replay="always")``, Polis's runs replayed
  at every size (the same as ``ours`` on every conversation here).

ARIs are over the participants both sides clustered, at seed 0 and averaged over seeds. Then
times red-dwarf and ours on a synthetic 10,000 x 1,000 conversation (``--skip-timing`` to leave
that out).

    .venv/bin/python benchmarks/bench_consensus_vs_red_dwarf.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from benchlib import ROOT, rss_mb

from stcoord.analytics.consensus import ClusteringState, adjusted_rand_index, analyze
from stcoord.consultation.polis_format import read_export, state_from_recorded_groups

DATA = ROOT.parent / "shared" / "data"


def red_dwarf_groups(
    votes: list, excluded: list[str], seed: int
) -> tuple[dict[str, int], float] | None:
    try:
        from reddwarf.implementations.polis import run_pipeline
    except ImportError:  # pragma: no cover - optional
        return None

    def key(x: str) -> int | str:
        return int(x) if x.isdigit() else x

    last = {(v.participant, v.statement): (i, v.value) for i, v in enumerate(votes)}
    rows = [  # one vote per participant and statement (the last), as red-dwarf's loader keeps
        {"participant_id": key(p), "statement_id": key(s), "vote": value, "modified": i}
        for (p, s), (i, value) in last.items()
    ]
    excluded = [key(s) for s in excluded]  # type: ignore[misc]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_pipeline(
            votes=rows,
            mod_out_statement_ids=list(excluded),
            random_state=seed,
        )
    elapsed = time.perf_counter() - start
    df = result.participants_df
    labels = {
        str(pid): int(c)
        for pid, c in zip(df.index, df["cluster_id"], strict=True)
        if c is not None and str(c) != "<NA>"
    }
    return labels, elapsed


def compare(folder: Path, seeds: int, replay_always: bool = False) -> dict[str, object]:
    export = read_export(folder)
    votes = export.analysis_votes()
    excluded = list(export.excluded_statements())
    recorded = export.recorded_groups()
    ours_ari, rd_ari, ours_k, rd_k, ours_s, rd_s = [], [], [], [], [], []
    continued_ari = 0.0
    base_ari: float | None = None
    if export.math:
        bc = export.math["base-clusters"]
        state0 = ClusteringState(
            in_conversation=frozenset(str(p) for p in export.math["in-conv"]),
            base_clusters=tuple(tuple(str(p) for p in mem) for mem in bc["members"]),
            group_clusterings={},
        )
        on_base = analyze(votes, excluded_statements=excluded, previous=state0)
        base_ari = adjusted_rand_index(on_base.group_of(), recorded)
    always_ari: float | None = None
    if replay_always:
        always = analyze(votes, excluded_statements=excluded, replay="always")
        always_ari = adjusted_rand_index(always.group_of(), recorded)
    for seed in range(seeds):
        start = time.perf_counter()
        ours = analyze(votes, excluded_statements=excluded, random_state=seed)
        ours_s.append(time.perf_counter() - start)
        ours_ari.append(adjusted_rand_index(ours.group_of(), recorded))
        ours_k.append(len(ours.groups))
        if seed == 0:
            state = state_from_recorded_groups(export, ours)
            continued = analyze(votes, excluded_statements=excluded, previous=state)
            continued_ari = adjusted_rand_index(continued.group_of(), recorded)
        rd = red_dwarf_groups(votes, excluded, seed)
        if rd:
            rd_ari.append(adjusted_rand_index(rd[0], recorded))
            rd_k.append(len(set(rd[0].values())))
            rd_s.append(rd[1])
    return {
        "name": folder.name,
        "participants": len(ours.participants),
        "polis_k": len(set(recorded.values())),
        "ours_k": ours_k,
        "ours_ari": ours_ari,
        "ours_s": min(ours_s),
        "continued_ari": continued_ari,
        "base_ari": base_ari,
        "always_ari": always_ari,
        "rd_k": rd_k,
        "rd_ari": rd_ari,
        "rd_s": min(rd_s) if rd_s else None,
    }


def timing(n_participants: int, n_statements: int, density: float) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_consensus import synthetic_matrix

    vm = synthetic_matrix(n_participants, n_statements, density, seed=1)
    start = time.perf_counter()
    ours = analyze(vm)
    ours_s = time.perf_counter() - start
    print(f"\nsynthetic {n_participants} x {n_statements}, {len(vm.values):,} votes")
    print(f"  ours:      {ours_s:6.2f} s, {len(ours.groups)} groups")
    try:
        from reddwarf.implementations.polis import run_pipeline
    except ImportError:
        print("  red-dwarf not installed")
        return
    rows = [
        {"participant_id": int(p), "statement_id": int(s), "vote": int(v), "modified": i}
        for i, (p, s, v) in enumerate(zip(vm.rows, vm.cols, vm.values, strict=True))
    ]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rd = run_pipeline(votes=rows, random_state=0)
    rd_s = time.perf_counter() - start
    k = rd.participants_df["cluster_id"].dropna().nunique()
    print(f"  red-dwarf: {rd_s:6.2f} s, {k} groups   (peak RSS of this process {rss_mb():.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (means reported)")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument(
        "--replay-always",
        action="store_true",
        help="also replay Polis's runs at every size (analyze(replay='always'))",
    )
    args = parser.parse_args()
    folders = sorted(p for p in (DATA / "polis").iterdir() if p.is_dir())
    folders += sorted(p for p in (DATA / "polis-math").iterdir() if p.is_dir())
    header = (
        f"{'conversation':31} {'ptpts':>5} {'Polis k':>7} {'ours k':>6} {'ours ARI':>8} "
        f"{'mean':>5} {'rd k':>4} {'rd ARI':>6} {'mean':>5} {'cont.':>5} {'base':>5} "
        f"{'ours s':>6} {'rd s':>5}" + (f" {'always':>6}" if args.replay_always else "")
    )
    print(f"ARI at seed 0 and mean over seeds 0..{args.seeds - 1}; cont. = ours continuing")
    print("from Polis's recorded groups; base = our group step over Polis's base clusters;")
    print("times: best of the seeds")
    print(header)
    print("-" * len(header))
    for folder in folders:
        r = compare(folder, args.seeds, args.replay_always)
        ours_ari, rd_ari = r["ours_ari"], r["rd_ari"]
        assert isinstance(ours_ari, list) and isinstance(rd_ari, list)
        rd_k = "-" if not r["rd_k"] else str(r["rd_k"][0])  # type: ignore[index]
        rd_cells = (
            f"{rd_ari[0]:6.3f} {sum(rd_ari) / len(rd_ari):5.3f}" if rd_ari else f"{'-':>6} {'-':>5}"
        )
        rd_s = "-" if r["rd_s"] is None else f"{r['rd_s']:.2f}"
        base = "-" if r["base_ari"] is None else f"{r['base_ari']:.3f}"
        print(
            f"{r['name']:31} {r['participants']:5} {r['polis_k']:7} "
            f"{r['ours_k'][0]:6} {ours_ari[0]:8.3f} {sum(ours_ari) / len(ours_ari):5.3f} "  # type: ignore[index]
            f"{rd_k:>4} {rd_cells} {r['continued_ari']:5.3f} {base:>5} {r['ours_s']:6.2f} {rd_s:>5}"
            + (f" {r['always_ari']:6.3f}" if r["always_ari"] is not None else "")
        )
    if not args.skip_timing:
        timing(10_000, 1_000, 0.05)


if __name__ == "__main__":
    main()
