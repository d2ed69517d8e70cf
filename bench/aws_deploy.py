"""AWS deploys against a moto server: API calls, writes, wall time and bytes sent.

    .venv/bin/python bench/aws_deploy.py

Starts moto on a loopback port (never AWS: throwaway credentials, ``AWS_ENDPOINT_URL``),
copies examples/flask with a ``prod`` stage on AWS and deploys it through the library three
times: first (role, layer, function, alias, URL), again with nothing changed, and after a
one-line change to app.py. Each line counts the AWS calls the deploy made (from strum's
boto3 wrapper), the writes among them, the wall time (build included) and the request bytes
sent. Flask's wheels come from the package index the first time (pip's cache after that).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.aws.motoserver import aws_environment, start_moto  # noqa: E402

from strum.aws import AwsClient, AwsTarget  # noqa: E402
from strum.config import load_config  # noqa: E402
from strum.platform.home import Home  # noqa: E402

STAGE = '\n[tool.strum.stages.prod]\ntarget = "aws"\nregion = "eu-west-1"\n'


def measured(label: str, project: Path, home: Home) -> None:
    config = load_config(project, "prod")
    client = AwsClient(config.region, config.profile)
    started = time.perf_counter()
    result = AwsTarget(config, home, client=client).deploy(_quiet, lambda message: None)
    elapsed = time.perf_counter() - started
    log = client.log
    writes = ", ".join(operation for _, operation in log.writes) or "none"
    print(
        f"  {label:<20} {len(log.calls):>4} calls {len(log.writes):>3} writes "
        f"{elapsed:6.2f} s {log.bytes_sent / 1000:9.1f} KB sent  (version {result.version})"
    )
    print(f"  {'':<20} writes: {writes}")


def _quiet(message: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


def main() -> int:
    server = start_moto()
    workdir = Path(tempfile.mkdtemp(prefix="strum-bench-aws-"))
    try:
        os.environ.update(aws_environment(server.endpoint))
        os.environ["STRUM_HOME"] = str(workdir / "home")
        home = Home(workdir / "home")
        project = workdir / "flask"
        shutil.copytree(ROOT / "examples" / "flask", project)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + STAGE)
        print(f"examples/flask to an AWS stage (moto at {server.endpoint}):")
        measured("first deploy", project, home)
        measured("no-op deploy", project, home)
        app = project / "app.py"
        app.write_text(app.read_text() + "\n# a one-line change\n")
        measured("code-only deploy", project, home)
        code = sorted(
            (home.root / "cache" / "packages").glob("aws-app-*.zip"),
            key=lambda p: p.stat().st_mtime,
        )
        layers = sorted((home.root / "cache" / "layers").glob("aws-*.zip"))
        sizes = [f"app zip {p.stat().st_size / 1000:.1f} KB" for p in code[-1:]]
        sizes += [f"layer zip {p.stat().st_size / 1e6:.2f} MB" for p in layers[-1:]]
        print(f"  packages: {', '.join(sizes)} (strum's runtime and the dependencies in the layer)")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
