"""The OpenAPI 3 description, generated from the route declarations themselves."""
import re

from .dispatch import FORM_METHODS
from .params import ModelParam
from .routing import ADMIN_ONLY, PUBLIC, Resource, route
from .schemas import answer_schema

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
            'responses': responses(spec),
        }
        if spec.response:
            op['responses']['200']['content'] = {
                'application/json': {'schema': answer_schema(spec.response, router.schemas)}}
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
        'components': {'schemas': dict(sorted(router.schemas.items())), 'securitySchemes': {
            'girderToken': {'type': 'apiKey', 'in': 'header', 'name': 'Girder-Token'}}},
    }


def responses(spec):
    """The answers an operation can give, as the dispatcher and handlers produce them."""
    codes = {'200': 'Success', '400': 'Bad parameter, body or id (JSON error)',
             '401': 'Not signed in, or an invalid token',
             '403': 'Not allowed (access level, flag or token scope)'}
    if spec.method in FORM_METHODS or spec.json_body or spec.raw_body:
        codes.update({'408': 'The request body stopped arriving (socket_timeout)',
                      '411': 'A chunked body without Content-Length',
                      '413': 'The request body is larger than its limit'})
    if spec.method != 'GET' or spec.raw_body:
        codes['409'] = 'Conflicts with the stored state (name taken, stale version, busy)'
    if any(p.location == 'path' or isinstance(p, ModelParam) for p in spec.all_params()):
        codes['404'] = 'No such document (plugin resources) or sub-resource'
    codes.update({str(code): text for code, text in spec.responses.items()})
    return {code: {'description': text} for code, text in sorted(codes.items())}


class DescribeResource(Resource):
    """GET /describe: the machine-readable API description."""

    def __init__(self, app):
        self.app = app

    @route('GET', 'describe', response='OpenAPI',
           access=PUBLIC, summary='The OpenAPI 3 description of this API.')
    def describe(self, req):
        from .. import __version__
        return openapi(self.app.router, __version__)
