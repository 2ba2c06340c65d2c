"""Consultations: participants, comments on drafts, statements and votes, Delphi rounds, dispositions."""
