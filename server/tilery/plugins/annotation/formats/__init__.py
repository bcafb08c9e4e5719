"""Annotation import and export formats: GeoJSON, .iid files and label masks."""
