"""Adoption of advisory recommendations per body (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stcoord.analytics.adoption import POSITIONS, STATUSES, Outcome, adoption_by_body


def test_counts_and_shares_per_body_in_first_seen_order() -> None:
    rows = adoption_by_body(
        [
            Outcome("JP:csti", "accept", "fully_addressed"),
            Outcome("US:pcast", "partly_accept", "partly_addressed"),
            Outcome("JP:csti", "accept", "partly_addressed"),
            Outcome("JP:csti", "under_consideration", "open"),
            Outcome("US:pcast", "reject", "open"),
            Outcome("JP:csti", None, "open"),
        ]
    )
    assert [r.body for r in rows] == ["JP:csti", "US:pcast"]
    csti, pcast = rows
    assert (csti.total, csti.accepted, csti.under_consideration, csti.unanswered) == (4, 2, 1, 1)
    assert csti.adoption_rate == 0.5 and csti.acceptance_rate == 0.5
    assert (csti.fully_addressed, csti.partly_addressed, csti.open) == (1, 1, 2)
    assert csti.closure_rate == 0.5 and csti.fully_addressed_share == 0.25
    assert pcast.adoption_rate == 0.5 and pcast.rejected_share == 0.5
    assert pcast.as_dict()["partly_addressed_share"] == 0.5


def test_unknown_words_are_errors() -> None:
    with pytest.raises(ValueError, match="position"):
        adoption_by_body([Outcome("X:y", "maybe", "open")])
    with pytest.raises(ValueError, match="status"):
        adoption_by_body([Outcome("X:y", "accept", "closed")])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.sampled_from([*POSITIONS, None]),
            st.sampled_from(STATUSES),
        ),
        max_size=60,
    )
)
def test_counts_add_up_and_shares_lie_in_0_1(items: list[tuple[str, str | None, str]]) -> None:
    rows = adoption_by_body(Outcome(*i) for i in items)
    assert sum(r.total for r in rows) == len(items)
    for r in rows:
        by_position = (
            r.accepted + r.partly_accepted + r.rejected + r.under_consideration + r.unanswered
        )
        assert by_position == r.total == r.open + r.partly_addressed + r.fully_addressed
        for share in (r.adoption_rate, r.fully_addressed_share, r.closure_rate):
            assert 0.0 <= share <= 1.0
