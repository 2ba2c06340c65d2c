"""Advisory bodies: their reports, numbered recommendations, the government's responses, status."""
