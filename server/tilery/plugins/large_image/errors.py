"""Errors of the large-image plugin, answered in Girder's JSON error shape."""
from ...errors import NotFound, RestError, TileryError
from ...jobs.model import JobStatus


class ImageDataError(TileryError):
    """The stored image cannot be read (truncated, corrupt, missing bytes): a 500
    with a message that says so, instead of an anonymous internal error."""

    status = 500
    type = 'rest'


class NoLargeImage(NotFound):
    """The item has no large image."""


class NotReady(RestError):
    """The large image is still being made; the body names the job."""

    status = 409

    def __init__(self, message, job=None):
        super().__init__(message)
        self.job = job

    def to_json(self):
        body = super().to_json()
        if self.job is not None:
            body['jobId'] = str(self.job['_id'])
            body['jobStatus'] = self.job['status']
            body['progress'] = self.job.get('progress') or waiting_progress(self.job)
        return body


def waiting_progress(job):
    """The progress of a job that has reported none yet (queued, or just started):
    clients poll the 409 for {current, total, message} and should never get null."""
    queued = job['status'] in (JobStatus.INACTIVE, JobStatus.QUEUED)
    return {'current': 0, 'total': None,
            'message': 'Waiting for a free worker' if queued else 'Starting'}
