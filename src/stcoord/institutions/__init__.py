"""Institutions: jurisdictions, bodies, seats, mandates, relations, mechanism files, diagnosis."""
