"""Schemas of the large_image plugin's JSON answers, for the OpenAPI description.

The item's ``largeImage`` field is the core's ``LargeImageInfo`` (the core's ``Item``
schema describes it). Internal metadata, pixels and histograms are large_image's own
dictionaries, whose keys depend on the tile source: only what every source gives is
listed.
"""
_STR, _INT, _NUM, _BOOL = ({'type': t} for t in ('string', 'integer', 'number', 'boolean'))
_NULLABLE_NUM = {'type': 'number', 'nullable': True}
_OPEN = {'type': 'object', 'additionalProperties': True}

SCHEMAS = {
    'FrameInfo': {'type': 'object', 'required': ['Frame'], 'properties': {
        'Frame': _INT, 'Index': _INT}, 'additionalProperties': _NUM},
    'TileMetadata': {
        'type': 'object',
        'required': ['levels', 'sizeX', 'sizeY', 'tileWidth', 'tileHeight'],
        'properties': {
            'levels': _INT, 'sizeX': _INT, 'sizeY': _INT, 'tileWidth': _INT, 'tileHeight': _INT,
            'magnification': _NULLABLE_NUM, 'mm_x': _NULLABLE_NUM, 'mm_y': _NULLABLE_NUM,
            'dtype': _STR, 'bandCount': _INT,
            'frames': {'type': 'array', 'items': {'$ref': '#/components/schemas/FrameInfo'}},
            'IndexRange': {'type': 'object', 'additionalProperties': _INT},
            'IndexStride': {'type': 'object', 'additionalProperties': _INT},
            'channels': {'type': 'array', 'items': _STR}}},
    # the file's own tags and metadata, as large_image reads them
    'InternalMetadata': _OPEN,
    # one pixel's value by band ({} outside the image)
    'Pixel': {'type': 'object', 'additionalProperties': True, 'properties': {
        'r': _NUM, 'g': _NUM, 'b': _NUM, 'a': _NUM}},
    'Histogram': {'type': 'array', 'items': {
        'type': 'object', 'additionalProperties': True, 'properties': {
            'hist': {'type': 'array', 'items': _NUM},
            'bin_edges': {'type': 'array', 'items': _NUM},
            'min': _NUM, 'max': _NUM, 'samples': _INT}}},
    'TilesDeleted': {'type': 'object', 'required': ['deleted'], 'properties': {
        'deleted': {**_BOOL, 'description': 'Whether the item was a large image.'}}},
    # sizes and use of the open-source and item caches and of large_image's tile caches
    'CacheInfo': {'type': 'object', 'required': ['sources', 'items'],
                  'additionalProperties': True, 'properties': {
                      'sources': _OPEN, 'items': _OPEN}},
}
