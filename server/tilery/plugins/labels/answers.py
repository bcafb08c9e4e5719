"""Schemas of the labels plugin's JSON answers, for the OpenAPI description.

A project's classes are the core's ``LabelClass`` (they are stored on the folder, which
the core's ``Folder`` schema describes).
"""
_STR, _INT, _NUM = {'type': 'string'}, {'type': 'integer'}, {'type': 'number'}

SCHEMAS = {
    # one labeller's mask on an item
    'LabelMask': {'type': 'object', 'required': ['userId', 'fileId', 'login', 'status'],
                  'properties': {
                      'userId': _STR, 'fileId': _STR, 'login': _STR,
                      'status': {'type': 'string', 'enum': ['checkpoint', 'done']},
                      'updated': _STR, 'width': _INT, 'height': _INT, 'mode': _STR,
                      'values': {'type': 'array', 'items': _INT},
                      'scale': {**_NUM, 'description': 'Image pixels per mask pixel.'}}},
    'LabelProgress': {'type': 'object', 'required': ['items', 'labellers'], 'properties': {
        'items': _INT, 'labellers': {'type': 'array', 'items': {
            'type': 'object', 'required': ['userId', 'login', 'done', 'checkpoint'],
            'properties': {'userId': _STR, 'login': _STR,
                           'done': _INT, 'checkpoint': _INT}}}}},
}
