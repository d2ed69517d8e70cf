"""The handler strum deploys: ``strum.runtime.entry.handler``.

Importing this module is the function's init phase: it reads the frozen manifest the build
wrote into the package (``strum_manifest.json`` beside the code, or ``$STRUM_MANIFEST``),
imports the web app and wraps it with the adapter, so the first request pays nothing extra.
Each event is then routed by what it is:

- HTTP events (API Gateway, Function URLs, ALB, VPC Lattice) -> the web app;
- ``{"strum": "ping"}`` -> nothing but the check that init succeeded (what a deploy sends
  before the stage's alias moves); ``{"strum": "task", ...}`` -> the ``@task`` it names; ``{"strum": "manage", ...}`` ->
  a Django management command, its output returned in the response;
- EventBridge scheduled events -> the function of the matching ``schedules`` entry;
- SQS / SNS / S3 / DynamoDB / Kinesis records and other EventBridge events -> the
  consumer configured in ``events``;
- anything else -> ``UnsupportedEvent`` naming what arrived and what is configured.

It runs unchanged under strum's runtime and under AWS's own (awslambdaric). The manifest::

    {"version": 1, "app": "hello:app", "lifespan": "auto", "base_path": null,
     "text_mime_types": [], "stream": false, "django_settings": null,
     "schedules": {"nightly": {"function": "jobs:cleanup", "expression": "rate(1 day)"}},
     "events": [{"source": "sqs", "function": "jobs:consume", "arn": null,
                 "batch": "record"}]}
"""

from __future__ import annotations

import os

from strum.runtime.routing import Router, load_manifest

router = Router(load_manifest(os.environ))
"""The router built from this function's manifest during the init phase."""

handler = router.handle
