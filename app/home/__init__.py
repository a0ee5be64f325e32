"""The Home page's parts: where to start, and what the bundled tasks and their preset names are."""
