"""strum's embedded serverless platform: AWS Lambda's protocols on one machine.

It runs as one asyncio process (``strum platform run``) and speaks:

- the Lambda control and Invoke REST API at ``/2015-03-31/functions...`` (and the Function
  URL config routes), so ``boto3.client("lambda", endpoint_url=...)`` works unchanged;
- the Runtime API ``/2018-06-01/runtime/...`` to the function processes it starts, each
  instance on a listener of its own (a Runtime API address identifies one instance);
- Function URLs: one plain HTTP listener per URL config, so the app sees its own root.

Modules and who depends on whom (arrows point at what is used)::

    server (Platform: wiring, HTTP listeners, lifecycle)
      ├─> control  (control-plane routes: functions, versions, aliases, concurrency, URL
      │             configs) ─> store (SQLite, WAL) + codestore (content-addressed zips)
      ├─> invoke   (Invoke route: qualifier/alias resolution, payload limits, error shapes)
      │             ─> engine
      ├─> engine   (instances, pools, the Runtime API, limits, logs) - the data plane
      ├─> urls     (Function URL listeners: request <-> payload 2.0 event) ─> invoke
      └─> asyncq   (durable queue for InvocationType=Event) ─> invoke

``types`` holds the small frozen records these parts pass each other; ``home`` the layout
of ``$STRUM_HOME``. Nothing here is imported by code that ships inside functions.
"""
