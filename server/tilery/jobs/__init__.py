"""Background jobs: Girder-compatible job documents and a bounded runner.

``service.JobService(model, settings)`` stores jobs through ``model.JobModel`` (the
``job`` collection, registered with the app as ``app.models.job``) and runs
them on a pool of ``jobs.pool_size`` threads; a handler registered for a job type gets
a ``context.JobContext`` (progress, log, cancellation, ``run_child`` for worker
processes, which report through ``child``). ``rest`` has the /job routes. With
``jobs.broker_url`` set, ``broker`` sends jobs through Celery and ``worker`` is the
``tilery worker`` command that runs them.

Import from the submodules: this package imports nothing, so that a worker process
importing ``tilery.jobs.child`` stays small.
"""
