"""Tilery: a Girder-compatible server for large images and annotations."""
__version__ = "0.1.0"
