"""Helpers shared by the test_core_* files (this module holds no tests)."""
import io
import os

from tilery.rest.request import BodyReader
from tilery.testing import Headers, Response


def assert_error(resp, status, kind=None, contains=None, field=None):
    """A Girder-shaped JSON error: status, {message, type}, optional field."""
    assert resp.status == status, resp
    assert resp.headers['Content-Type'] == 'application/json'
    assert resp.headers.get('Girder-Request-Uid')
    body = resp.json
    assert isinstance(body.get('message'), str) and body['message'], body
    if kind is None:
        kind = {401: 'access', 403: 'access', 500: 'internal'}.get(status)
    if kind is not None:
        assert body['type'] == kind, body
    if contains is not None:
        assert contains.lower() in body['message'].lower(), body
    if field is not None:
        assert body.get('field') == field, body
    return body


def ok(resp, status=200):
    """Assert success and return the decoded JSON body."""
    assert resp.status == status, resp
    assert resp.headers.get('Girder-Request-Uid')
    return resp.json


def home_folder(server, user, name='Private'):
    """A user's Public or Private folder document (from the database)."""
    return server.app.models.folder.find_one(
        {'parentId': user['_id'], 'parentCollection': 'user', 'name': name})


def make_folder(server, user, parent, name, parent_type='folder', **params):
    return ok(server.request('folder', 'POST', user=user, params=dict(
        parentType=parent_type, parentId=parent['_id'], name=name, **params)))


def make_item(server, user, folder, name, **params):
    return ok(server.request('item', 'POST', user=user, params=dict(
        folderId=folder['_id'], name=name, **params)))


def upload(server, user, parent, data, name='data.bin', parent_type='item', **params):
    """Upload ``data`` in one request (the body sent with the init call)."""
    return ok(server.request('file', 'POST', user=user, body=data, params=dict(
        parentType=parent_type, parentId=parent['_id'], name=name, size=len(data),
        **params)))


def raw_request(server, method, path, query='', user=None, body=b'', declared=None,
                headers=None):
    """A request with an exact query string and a body that may end before
    ``declared`` bytes (a dropped connection)."""
    headers = dict(headers or {})
    if user is not None:
        headers['Girder-Token'] = server.token_for(user)
    length = len(body) if declared is None else declared
    headers['Content-Length'] = str(length)
    reader = BodyReader(io.BytesIO(body), length)
    status, out_headers, out = server.app.dispatcher.handle(
        method, path, query, Headers(headers), reader, {})
    return Response(status, out_headers, out)


def store_root(server):
    """The directory of the current (filesystem) assetstore."""
    return server.app.models.assetstore.current()['root']


def stored_files(root):
    """Relative paths of finished files in a filesystem assetstore (uploads excluded)."""
    out = set()
    for base, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(base, name), root)
            if not rel.startswith('temp' + os.sep):
                out.add(rel)
    return out


def temp_files(root):
    """Files of unfinished uploads in a filesystem assetstore."""
    temp = os.path.join(root, 'temp')
    return sorted(os.listdir(temp)) if os.path.isdir(temp) else []


def size_of(server, kind, doc):
    """The stored ``size`` of a document, read from the database."""
    return server.app.models[kind].load(doc['_id'])['size']
