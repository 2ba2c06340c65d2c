"""Web application: FastAPI app factory, dependencies, templates, static files."""
