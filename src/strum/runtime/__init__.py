"""strum's Lambda runtime: ``python -m strum.runtime``, the bootstrap of every function.

It speaks the Lambda Runtime API at ``$AWS_LAMBDA_RUNTIME_API`` (``host:port``) on one
kept-alive connection, loads ``$_HANDLER`` (``"module.function"``, the module possibly
dotted, imported with ``$LAMBDA_TASK_ROOT`` first on ``sys.path``; a command-line argument
overrides it) and calls it as ``handler(event, context)`` for each event. It is standard
library only and importing this package does nothing but define names, because it ships
inside every function and its start-up time is the function's cold start.

Results: ``dict``/``list``/``str``/numbers/``bool``/``None`` are sent as JSON (UTF-8),
``bytes``/``bytearray`` as-is (``application/octet-stream``), and a
:class:`strum.runtime.streaming.StreamingResponse` is streamed chunk by chunk. The context
is a :class:`strum.runtime.context.LambdaContext` with AWS's attribute names. Failures are
reported the way AWS's Python runtime reports them: ``Runtime.*`` error types for init
problems (``POST /runtime/init/error``, then exit status 1), the exception's class name and
stack trace for handler errors, ``[ERROR] Type: message`` on standard error.

Shutdown contract (``strum.adapter`` and user code rely on it): on ``SIGTERM`` the runtime
finishes the running invocation, posts its result, then leaves through a normal interpreter
exit with status 0; when idle in the ``/next`` long poll it leaves at once, the same way.
A normal exit runs ``atexit`` hooks, so code that registers cleanup with
``atexit.register`` (the adapter does, for ASGI lifespan shutdown) gets to run it. A
handler module that installs its own ``SIGTERM`` handler replaces this behaviour.
"""

# Nothing is imported here: the runtime is entered as a program (``python -m strum.runtime``)
# and by path (``_HANDLER=strum.runtime.entry.handler``), and whatever this module imported
# every cold start would pay for.
__all__: list[str] = []
