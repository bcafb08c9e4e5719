"""Exceptions that the REST layer turns into Girder-shaped JSON errors."""


class TileryError(Exception):
    """Base class: carries an HTTP status and a Girder error ``type``."""

    status = 500
    type = 'internal'

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def to_json(self):
        return {'message': self.message, 'type': self.type}


class RestError(TileryError):
    """Bad parameter, unknown id, no matching route (400 unless set)."""

    status = 400
    type = 'rest'


class NotFound(RestError):
    """A plugin resource that does not exist (tiles and annotations answer 404)."""

    status = 404


class ValidationError(TileryError):
    """A document fails validation; names the offending field."""

    status = 400
    type = 'validation'

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field

    def to_json(self):
        body = super().to_json()
        if self.field is not None:
            body['field'] = self.field
        return body


class AccessError(TileryError):
    """Not allowed: 401 for anonymous callers, 403 for signed-in ones."""

    status = 403
    type = 'access'


def anonymous_error(message='You must be logged in.'):
    """The 401 answer given to a caller without a valid token."""
    exc = AccessError(message, 401)
    exc.anonymous = True
    return exc


class Conflict(RestError):
    """The document changed since the caller read it (stale version)."""

    status = 409


class TooManyRequests(TileryError):
    """Throttled: try again after ``retry_after`` seconds (sent as Retry-After)."""

    status = 429
    type = 'throttle'

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))
        self.headers = {'Retry-After': str(self.retry_after)}

    def to_json(self):
        return dict(super().to_json(), retryAfter=self.retry_after)


class Unavailable(TileryError):
    """The database (or another part the request needs) is not answering: try later."""

    status = 503
    type = 'unavailable'

    def __init__(self, message, retry_after=5):  # a database restart takes seconds
        super().__init__(message)
        self.headers = {'Retry-After': str(retry_after)}


def client_fault(exc):
    """The 4xx error for a fault that a client's input raises deep inside a write or a
    walk of its value (BSON refusing a document, Python's recursion limit), or None.

    Checked in one place, the dispatcher, so that no route answers these with a 500."""
    from bson.errors import InvalidDocument
    if type(exc).__name__ == 'DocumentTooLarge':  # pymongo's, a kind of InvalidDocument
        return RestError('The document would be larger than the database accepts (16 MB).',
                         413)
    if isinstance(exc, InvalidDocument):
        return RestError('The database cannot store this value: %s' % exc)
    if isinstance(exc, OverflowError) and '8-byte ints' in str(exc):
        return RestError('An integer is too large to store (at most 64 bits).')
    if isinstance(exc, RecursionError):
        return RestError('The value is nested too deeply.')
    return None
