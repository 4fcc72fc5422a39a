"""Renderers: each takes model objects (never raw dicts) and returns the text to write."""
