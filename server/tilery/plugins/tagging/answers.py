"""Schemas of the tagging plugin's JSON answers, for the OpenAPI description.

A folder's tag set is the core's ``Tagset`` (it is stored on the folder, which the
core's ``Folder`` schema describes).
"""
_INT = {'type': 'integer'}

SCHEMAS = {
    # how many of a folder's images carry each tag code, and how many none
    'TagSummary': {'type': 'object', 'required': ['items', 'untagged', 'counts'],
                   'properties': {'items': _INT, 'untagged': _INT, 'counts': {
                       'type': 'object', 'additionalProperties': _INT}}},
}
