"""Report builders: charts and documents made from plain data (no database, no web)."""
