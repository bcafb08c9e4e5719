"""/job: list, read, cancel and delete jobs (girder_jobs' routes)."""
from ..errors import AccessError, RestError
from ..rest import PUBLIC, USER, Param, Resource, route
from .model import JobModel, JobStatus
from .service import JobService
from .settings import JobSettings


def _paging(default_sort='created'):
    return [Param('limit', 'Result set size limit (0 for no limit).', 'integer', default=50,
                  min=0),
            Param('offset', 'Offset into result set.', 'integer', default=0, min=0),
            Param('sort', 'Field to sort by.', default=default_sort,
                  enum=('created', 'updated', 'title', 'status', 'type')),
            Param('sortdir', '1 ascending, -1 descending.', 'integer', default=-1,
                  enum=(1, -1))]


def _filters():
    return [Param('statuses', 'A JSON list of status codes.', 'json', json_types=(list,)),
            Param('types', 'A JSON list of job types.', 'json', json_types=(list,))]


def _statuses(values):
    try:
        return [JobStatus(int(v)) for v in values or ()]
    except (ValueError, TypeError):
        raise RestError('statuses must be a list of job status codes (0 to 5).')


class JobResource(Resource):
    prefix = 'job'

    def __init__(self, app):
        self.app = app
        self.jobs = app.jobs

    def _page(self, req, user_id, statuses, types, limit, offset, sort, sortdir):
        docs, total = self.jobs.model.find_jobs(
            user_id, _statuses(statuses), [str(t) for t in types or ()], limit, offset,
            [(sort, sortdir)])
        req.set_total_count(total)
        return [self.jobs.model.filter(d, req.user) for d in docs]

    @route('GET', '', access=USER, response='Job[]',
           summary="List a user's jobs (yours by default), newest "
           'first.', params=[Param('userId', "Whose jobs (admins only for others').",
                                   'objectid', dest='user_id')] + _filters() + _paging())
    def find(self, req, user_id, statuses, types, limit, offset, sort, sortdir):
        if user_id is not None and user_id != req.user['_id'] and not req.user.get('admin'):
            raise AccessError('Only administrators may list the jobs of other users.')
        return self._page(req, user_id or req.user['_id'], statuses, types, limit, offset,
                          sort, sortdir)

    @route('GET', 'all', response='Job[]', summary='List every job (administrators).',
           params=_filters() + _paging())
    def find_all(self, req, statuses, types, limit, offset, sort, sortdir):
        return self._page(req, None, statuses, types, limit, offset, sort, sortdir)

    @route('GET', ':id', access=PUBLIC, response='Job', summary='Get a job with its log.',
           params=[Param('id', type='objectid')])
    def get(self, req, id):
        return self.jobs.model.filter(self.jobs.model.require(id, req.user), req.user)

    @route('PUT', ':id/cancel', response='Job',
           access=USER, summary='Cancel a job (its worker is stopped).',
           params=[Param('id', type='objectid')])
    def cancel(self, req, id):
        self.jobs.model.require(id, req.user, manage=True)
        return self.jobs.model.filter(self.jobs.cancel(id), req.user)

    @route('DELETE', ':id', response='Message',
           access=USER, summary='Delete a job (canceling it if active).',
           params=[Param('id', type='objectid')])
    def delete(self, req, id):
        self.jobs.model.require(id, req.user, manage=True)
        self.jobs.delete(id)
        return {'message': 'Deleted job %s.' % id}


def attach(app):
    """The app's job service (``app.jobs``), made with its /job routes on first call."""
    if getattr(app, 'jobs', None) is None:
        model = app.models.add(JobModel(app))
        model.ensure_indexes()
        app.jobs = JobService(model, JobSettings.from_settings(app.settings), app.metrics)
        app.router.add_resource(JobResource(app))
    return app.jobs
