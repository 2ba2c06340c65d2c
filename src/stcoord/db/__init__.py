"""Storage: declarative base, engine with pragmas, session scope, migrations."""
