"""The job collection: documents shaped as girder_jobs' public job documents."""
import datetime
import enum
import logging

from bson import ObjectId
from bson.errors import InvalidId

from ..errors import AccessError, RestError
from ..models.base import Model, publisher


class JobStatus(enum.IntEnum):
    """Girder's job status codes."""

    INACTIVE = 0
    QUEUED = 1
    RUNNING = 2
    SUCCESS = 3
    ERROR = 4
    CANCELED = 5


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCESS, JobStatus.ERROR, JobStatus.CANCELED)
# fields only the runner uses; the API leaves them out
RUNNER_FIELDS = ('runner', 'heartbeat', 'restarts', 'cancelRequested')
# where a job runs: for administrators only (host names and pids help an attacker)
ADMIN_FIELDS = ('celeryTaskId', 'celeryQueue', 'worker')


def utcnow():
    """Naive UTC with millisecond precision, as MongoDB stores it."""
    t = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def to_job_id(value):
    """An ObjectId from a string, or a 400 naming the bad value."""
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise RestError('Invalid job id (%s).' % (value,))


class JobModel(Model):
    """The ``job`` collection, registered with the app like the core models: create,
    load, list, status changes."""

    collection_name = 'job'
    model_type = 'job'
    # status: the runner's recovery and heartbeat queries are bounded index ranges
    indexes = ([('status', 1)], [('userId', 1), ('created', -1)], [('created', -1)])

    def create(self, title, job_type, user_id=None, kwargs=None, public=False, meta=None):
        """Insert an INACTIVE job and return it."""
        if not isinstance(job_type, str) or not job_type:
            raise RestError('A job needs a type.')
        now = utcnow()
        doc = {
            'title': title or job_type, 'type': job_type, 'status': int(JobStatus.INACTIVE),
            'progress': None, 'log': [], 'meta': meta or {}, 'kwargs': kwargs or {},
            'userId': user_id, 'public': bool(public), 'created': now, 'updated': now,
            'when': now, 'timestamps': [], 'restarts': 0, 'runner': None, 'heartbeat': None,
        }
        doc['_id'] = self.collection.insert_one(doc).inserted_id
        return doc

    def load(self, job_id, exc=False, fields=None):
        """The job with this id, or None (a job may go while the runner still holds its
        id: the runner asks, and the routes use ``require``)."""
        return super().load(to_job_id(job_id), exc, fields)

    def find_jobs(self, user_id=None, statuses=None, types=None, limit=50, offset=0,
             sort=(('created', -1),)):
        """(jobs without their log, total) for a listing, newest first by default."""
        query = {}
        if user_id is not None:
            query['userId'] = user_id
        if statuses:
            query['status'] = {'$in': [int(s) for s in statuses]}
        if types:
            query['type'] = {'$in': list(types)}
        total = self.collection.count_documents(query)
        cursor = self.collection.find(query, {'log': 0}).sort(list(sort)).skip(offset)
        if limit:
            cursor = cursor.limit(limit)
        return list(cursor), total

    def transition(self, job_id, status, expect=None, match=None, set_fields=None):
        """Move a job to ``status`` if its status is in ``expect`` (and it matches
        ``match``); return the updated job, or None when it did not qualify."""
        now = utcnow()
        query = dict(match or {}, _id=job_id)
        if expect is not None:
            query['status'] = {'$in': [int(s) for s in expect]}
        update = {'$set': dict(set_fields or {}, status=int(status), updated=now),
                  '$push': {'timestamps': {'status': int(status), 'time': now}}}
        job = self.update_and_get(query, update, after=True)
        if job is not None:
            self.announce(job)
        return job

    def record(self, job_id, lines=(), progress=None, meta=None, max_lines=1000):
        """Append log lines and set progress/meta in one write (the log keeps its tail)."""
        update = {'$set': {'updated': utcnow()}}
        if progress is not None:
            update['$set']['progress'] = progress
        for key, value in (meta or {}).items():
            update['$set']['meta.%s' % key] = value
        if lines:
            update['$push'] = {'log': {'$each': list(lines), '$slice': -max_lines}}
        if progress is None:
            self.collection.update_one({'_id': job_id}, update)
            return
        # progress goes to the owner's notification stream (a job context records it
        # at most once a second)
        job = self.update_and_get({'_id': job_id}, update, projection={'log': 0}, after=True)
        if job is not None:
            self.announce(job)

    def announce(self, job):
        """``job_status`` to the owner's notification streams: the job as GET /job/:id
        shows it, without its log. A feed that fails is logged; the job goes on."""
        feed = publisher(self.app)
        if feed is None or job.get('userId') is None:
            return
        data = self.filter(job)
        data.pop('log', None)
        try:
            feed.publish('job_status', data, user_id=job['userId'])
        except Exception:
            logging.getLogger(__name__).exception('Job %s: status not announced', job['_id'])

    def delete(self, job_id):
        self.collection.delete_one({'_id': job_id})

    # -- access: the owner and admins manage a job; public jobs are readable by all
    @staticmethod
    def can_read(job, user):
        return bool(job.get('public')) or JobModel.can_manage(job, user)

    @staticmethod
    def can_manage(job, user):
        return user is not None and (user.get('admin') or job.get('userId') == user['_id'])

    def filter(self, job, user=None):
        """The job as the API shows it; administrators also see where it runs."""
        admin = user is not None and user.get('admin')
        out = {k: v for k, v in job.items()
               if k not in RUNNER_FIELDS and (admin or k not in ADMIN_FIELDS)}
        out['_modelType'] = 'job'
        return out

    def require(self, job_id, user, manage=False):
        """Load a job the user may read (or manage); 400 when missing, 401/403 when denied."""
        job = self.load(job_id)
        if job is None:
            raise RestError('Invalid job id (%s).' % job_id)
        allowed = self.can_manage(job, user) if manage else self.can_read(job, user)
        if not allowed:
            if user is None:
                error = AccessError('You must be logged in.', 401)
                error.anonymous = True
                raise error
            raise AccessError('%s access denied for job %s.' % (
                'Write' if manage else 'Read', job['_id']))
        return job
