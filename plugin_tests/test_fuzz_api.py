"""Fuzzing the whole API from its own description (schemathesis, over real HTTP).

Every operation of ``/api/v1/describe`` gets generated requests (derandomized, so CI
runs the same ones each time) with a fresh admin token. Ids are drawn from seeded
documents of the kind the parameter names (and one id that exists nowhere), so the
handlers run past their id checks. No answer may be a 5xx, and every status answered
must be one the description documents. ``TILERY_FUZZ_EXAMPLES`` sets the requests per
operation (default 20: about two minutes on two cores).
"""
import collections
import os
import re

import pytest
import requests

import test_large_image_samples as sample_files
from test_core_support import home_folder, make_item, ok, upload
from tilery.rest.params import OBJECT_ID_PATTERN

schemathesis = pytest.importorskip('schemathesis')
hypothesis = pytest.importorskip('hypothesis')
samples = sample_files.samples  # the session fixture of sample images

EXAMPLES = int(os.environ.get('TILERY_FUZZ_EXAMPLES', '20'))
MISSING_ID = 'f' * 24
#: parameter names that say which kind of document an id is
KINDS = {'itemId': 'item', 'folderId': 'folder', 'userId': 'user', 'fileId': 'file',
         'collectionId': 'collection', 'groupId': 'group', 'annotationId': 'annotation',
         'jobId': 'job', 'assetstoreId': 'assetstore', 'parentId': 'parent',
         'copyToFolderId': 'folder', 'file': 'file', 'item': 'item', 'folder': 'folder'}


@pytest.fixture
def seeded(server, admin, user, samples):
    """One of each kind of document, as ``{kind: [ids]}``."""
    app = server.app
    private = home_folder(server, user)
    public = home_folder(server, user, 'Public')
    item = make_item(server, user, private, 'notes')
    small = upload(server, user, item, b'hello fuzz', name='hello.txt')
    slide = upload(server, user, public, samples.pyramid.read_bytes(), name='pyramid.tiff',
                   parent_type='folder')
    annotation = ok(server.request('annotation', 'POST', user, {'itemId': item['_id']}, {
        'name': 'cells', 'elements': [
            {'type': 'rectangle', 'center': [50, 40, 0], 'width': 20, 'height': 10},
            {'type': 'polyline', 'closed': True,
             'points': [[10, 10, 0], [60, 10, 0], [35, 50, 0]]}]}))
    collection = ok(server.request('collection', 'POST', admin, {'name': 'lab'}))
    group = ok(server.request('group', 'POST', admin, {'name': 'team'}))
    key = ok(server.request('api_key', 'POST', user, {'name': 'script'}))
    jobs = [str(j['_id']) for j in app.db.job.find({}, {'_id': 1})]
    ids = {
        'user': [str(user['_id'])],  # not the admin: a fuzzed DELETE must not sign us out
        'folder': [str(private['_id']), str(public['_id'])],
        'item': [str(item['_id']), str(slide['itemId'])],
        'file': [str(small['_id']), str(slide['_id'])],
        'annotation': [annotation['_id']],
        'collection': [collection['_id']],
        'group': [group['_id']],
        'api_key': [key['_id']],
        'job': jobs,
        'assetstore': [str(app.models.assetstore.current()['_id'])],
    }
    ids['parent'] = ids['folder'] + ids['collection'] + ids['user']
    ids['resource'] = ids['item'] + ids['folder']
    return ids


def _kind(path, name):
    """The kind of document a parameter of this operation names, or None for any."""
    if name in KINDS:
        return KINDS[name]
    if name == 'id':
        literals = [s for s in path.split('/') if s and not s.startswith('{')]
        before = path.split('{id}')[0].strip('/').split('/')
        for segment in reversed(before):
            if segment in ('item', 'folder', 'user', 'file', 'annotation', 'collection',
                           'group', 'api_key', 'job', 'assetstore'):
                return segment
        return literals[0] if literals else None
    return None


def pin_ids(doc, seeded):
    """Draw every id parameter from seeded documents of its kind (plus one missing id)."""
    every = sorted({i for ids in seeded.values() for i in ids})
    for path, operations in doc['paths'].items():
        for op in operations.values():
            for param in op.get('parameters', ()):
                schema = param.get('schema') or {}
                if schema.get('pattern') != OBJECT_ID_PATTERN:
                    continue
                pool = seeded.get(_kind(path, param['name'])) or every
                param['schema'] = {'type': 'string', 'enum': sorted(pool) + [MISSING_ID]}
    return doc


#: answers that last until their timeout (minutes), which a fuzzer waits out whole;
#: test_notification.py covers their parameters
STREAMED = {'/notification/stream'}


def test_fuzz_every_operation(bound_server, server, admin, seeded):
    doc = requests.get(bound_server.api_url + '/describe', timeout=30).json()
    schema = schemathesis.openapi.from_dict(pin_ids(doc, seeded))
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import status_code_conformance
    checks = [not_a_server_error, status_code_conformance]
    session = requests.Session()
    statuses = collections.Counter()
    failures = []

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in STREAMED:
            continue
        token = server.app.models.token.create(admin)['_id']

        @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                             database=None, print_blob=False,
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                             suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=operation.as_strategy())
        def run(case):
            response = case.call(base_url=bound_server.api_url, session=session,
                                 headers={'Girder-Token': token}, timeout=60)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # collected: all are reported
                failures.append('%s %s -> %d: %s' % (
                    case.method, case.formatted_path, response.status_code,
                    re.sub(r'\s+', ' ', str(exc))[:300]))

        run()

    total = sum(statuses.values())
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    print('fuzzed %d requests over %d operations; statuses %s; 5xx: %d' % (
        total, len(list(schema.get_all_operations())), dict(sorted(statuses.items())),
        server_errors))
    assert total >= EXAMPLES * 50
    assert not failures, '\n'.join(failures[:40])
