"""Change records: who changed what, when, before and after."""
