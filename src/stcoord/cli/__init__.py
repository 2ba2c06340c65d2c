"""Command line: the Typer root and shared output helpers."""
