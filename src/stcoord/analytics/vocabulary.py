"""Closed vocabularies of the mechanism model (plain enums) for files, tables and analytics."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Where a body stands: ``head`` is the head of government or the party centre above all."""

    head = "head"
    supra_ministerial = "supra_ministerial"
    ministerial = "ministerial"
    agency = "agency"
    advisory = "advisory"
    legislative = "legislative"


class BodyKind(StrEnum):
    head_of_government = "head_of_government"
    cabinet = "cabinet"
    party_central_committee = "party_central_committee"
    party_commission = "party_commission"
    council = "council"
    committee = "committee"
    subcommittee = "subcommittee"
    working_group = "working_group"
    coordination_office = "coordination_office"
    secretariat = "secretariat"
    advisory_committee = "advisory_committee"
    expert_panel = "expert_panel"
    budget_office = "budget_office"
    ministry = "ministry"
    funding_agency = "funding_agency"
    funding_instrument = "funding_instrument"
    research_institute = "research_institute"
    academy = "academy"
    legislature = "legislature"
    legislative_committee = "legislative_committee"


class SeatRole(StrEnum):
    chair = "chair"
    co_chair = "co_chair"
    vice_chair = "vice_chair"
    member = "member"
    ex_officio = "ex_officio"
    temporary_member = "temporary_member"
    director = "director"
    secretary = "secretary"


class HolderType(StrEnum):
    head_of_government = "head_of_government"
    deputy_head_of_government = "deputy_head_of_government"
    party_leader = "party_leader"
    minister = "minister"
    agency_head = "agency_head"
    official = "official"
    expert_academia = "expert_academia"
    expert_industry = "expert_industry"
    academy_president = "academy_president"
    budget_authority = "budget_authority"
    legislator = "legislator"
    civil_society = "civil_society"


EXPERT_HOLDERS = frozenset(
    {HolderType.expert_academia, HolderType.expert_industry, HolderType.academy_president}
)
GOVERNMENT_HOLDERS = frozenset(
    {
        HolderType.head_of_government,
        HolderType.deputy_head_of_government,
        HolderType.party_leader,
        HolderType.minister,
        HolderType.agency_head,
        HolderType.official,
        HolderType.budget_authority,
    }
)


class Affair(StrEnum):
    administrative = "administrative"
    technical = "technical"
    budgetary = "budgetary"


class Power(StrEnum):
    advise = "advise"
    coordinate = "coordinate"
    decide = "decide"
    allocate = "allocate"
    evaluate = "evaluate"
    appoint = "appoint"
    implement = "implement"
    report = "report"


class RelationType(StrEnum):
    reports_to = "reports_to"
    supports = "supports"
    advises = "advises"
    member_of = "member_of"
    funds = "funds"
    transfers_budget_to = "transfers_budget_to"
    chairs = "chairs"


class Channel(StrEnum):
    """Who a procedure stage hears."""

    interagency = "interagency"
    industry = "industry"
    academia = "academia"
    public_comment = "public_comment"
    rfi = "rfi"
    advisory = "advisory"
    legislature = "legislature"


class DecisionRuleKind(StrEnum):
    consensus_then_chair = "consensus_then_chair"
    consensus = "consensus"
    unanimity = "unanimity"
    majority = "majority"
    two_thirds = "two_thirds"
    chair_decides = "chair_decides"


class GateKind(StrEnum):
    """Conditions that close a procedure stage (checked by the plan engine)."""

    output_recorded = "output_recorded"
    channels_heard = "channels_heard"
    advisory_opinion = "advisory_opinion"
    decision_by_body = "decision_by_body"
    prior_stages_closed = "prior_stages_closed"
    comments_answered = "comments_answered"
