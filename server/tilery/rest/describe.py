"""The OpenAPI 3 description, generated from the route declarations themselves."""
import re

from .routing import ADMIN_ONLY, PUBLIC, Resource, route
from .schemas import SCHEMAS, answer_schema

_ACCESS_TEXT = {PUBLIC: 'Anyone, signed in or not.', 'user': 'Signed-in users.',
                ADMIN_ONLY: 'Site administrators only.'}


def openapi(router, version, base_path='/api/v1'):
    """An OpenAPI 3.0 document describing every visible route."""
    paths = {}
    for spec in router.routes:
        if spec.hidden:
            continue
        path = '/' + re.sub(r':(\w+)', r'{\1}', '/'.join(spec.segments))
        op = {
            'summary': spec.summary,
            'description': 'Access: ' + _ACCESS_TEXT.get(spec.access, spec.access) + (
                ' Token scope: %s.' % spec.scope if spec.scope else '') + (
                ' The girderToken cookie is accepted.' if spec.cookie else ''),
            # unique, as OpenAPI requires: handler names repeat across resources
            'operationId': '%s_%s' % (spec.method.lower(),
                                      re.sub(r'\W+', '_', spec.path).strip('_') or 'root'),
            'tags': list(spec.tags),
            'parameters': [p.openapi() for p in spec.all_params()],
            'responses': {'200': {'description': 'Success'},
                          '400': {'description': 'Bad parameter or unknown id'},
                          '401': {'description': 'Not signed in'},
                          '403': {'description': 'Not allowed'}},
        }
        if spec.response:
            op['responses']['200']['content'] = {
                'application/json': {'schema': answer_schema(spec.response)}}
        if spec.json_body:
            op['requestBody'] = {'required': True, 'description': spec.body_description,
                                 'content': {'application/json': {'schema': {
                                     'type': 'object' if spec.json_body == 'object'
                                     else 'array'}}}}
        elif spec.raw_body:
            op['requestBody'] = {'description': spec.body_description or 'Raw bytes',
                                 'content': {'application/octet-stream': {
                                     'schema': {'type': 'string', 'format': 'binary'}}}}
        if spec.access != PUBLIC:
            op['security'] = [{'girderToken': []}]
        paths.setdefault(path, {})[spec.method.lower()] = op
    return {
        'openapi': '3.0.3',
        'info': {'title': 'Tilery REST API', 'version': version,
                 'description': 'Girder-compatible data management, large images and '
                                'annotations.'},
        'servers': [{'url': base_path}],
        'paths': dict(sorted(paths.items())),
        'components': {'schemas': SCHEMAS, 'securitySchemes': {
            'girderToken': {'type': 'apiKey', 'in': 'header', 'name': 'Girder-Token'}}},
    }


class DescribeResource(Resource):
    """GET /describe: the machine-readable API description."""

    def __init__(self, app):
        self.app = app

    @route('GET', 'describe', access=PUBLIC, summary='The OpenAPI 3 description of this API.')
    def describe(self, req):
        from .. import __version__
        return openapi(self.app.router, __version__)
