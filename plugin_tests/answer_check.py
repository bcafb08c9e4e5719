"""Check JSON answers against the schema their route declares in GET /describe.

test_openapi_contract.py uses ``check_answer`` on the answers of its walk. As a pytest
plugin, ``PYTHONPATH=plugin_tests pytest -p answer_check plugin_tests`` (the module must
be importable before the conftest is read) checks every JSON answer of every test
that calls ``server.request``: a test fails on the first answer that breaks its schema
or comes from a route declaring none. Run it after changing a route's answer or a
schema; it is opt-in because it validates every answer of the suite.
"""
import jsonschema
import orjson

from tilery import testing
from tilery.rest.schemas import answer_schema


def json_schema(schema):
    """An OpenAPI 3.0 schema as JSON Schema says it, for jsonschema: ``nullable`` and the
    boolean ``exclusiveMinimum``/``exclusiveMaximum``."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: json_schema(v) for k, v in schema.items() if k != 'nullable'}
    for bound in ('Minimum', 'Maximum'):
        if out.get('exclusive' + bound) is True:
            out['exclusive' + bound] = out.pop(bound.lower())
    if schema.get('nullable'):
        out = {'anyOf': [out, {'type': 'null'}]}
    return out


def check(body, schema, schemas):
    """Raise jsonschema.ValidationError unless ``body`` matches ``schema``."""
    jsonschema.Draft7Validator(dict(json_schema(schema), components={
        'schemas': json_schema(schemas)})).validate(body)


def check_answer(app, method, path, body):
    """Check one answer of ``method path`` (as requested) against its route's schema;
    the route's declared path, or None when no route matches."""
    spec, _ = app.router.match(method, path.strip('/').split('/'))
    if spec is None:
        return None
    assert spec.response is not None, (
        '%s %s answered JSON but declares no response schema' % (method, spec.path))
    check(body, answer_schema(spec.response, app.router.schemas), app.router.schemas)
    return spec.path


def pytest_configure(config):
    """Wrap TestServer.request for this run: each JSON answer is checked."""
    plain = testing.TestServer.request

    def request(self, path, method='GET', *args, **kwargs):
        resp = plain(self, path, method, *args, **kwargs)
        if resp.status == 200 and resp.headers.get('Content-Type', '').startswith(
                'application/json') and resp.body:
            check_answer(self.app, method, path, orjson.loads(resp.body))
        return resp
    testing.TestServer.request = request
    config.add_cleanup(lambda: setattr(testing.TestServer, 'request', plain))
