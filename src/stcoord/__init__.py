"""stcoord."""
