"""Consultations: participants, comments on drafts, statements, votes, Delphi, dispositions."""
