"""Benchmark provisioned concurrency: the first invocation of a version, cold vs provisioned.

Run: ``.venv/bin/python bench/provisioned.py [--rounds N]``. Each round publishes a new
version of a hello-world Python function (a configuration change, so no instance of it is
warm) and times its first synchronous Invoke through boto3: once with nothing provisioned
(a cold start: the instance's process starts and its init runs inside the request), once
after ``PutProvisionedConcurrencyConfig`` of 1 on it has reached ``READY`` (the init ran
before the request). Prints the medians and p90s of both.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from embedded_platform import (
    HELLO_FUNCTION,
    deploy,
    lambda_client,
    make_zip,
    percentile,
    platform_process,
)


def new_version(client: Any, name: str, index: int) -> str:
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"ROUND": str(index)}}
    )
    return str(client.publish_version(FunctionName=name)["Version"])


def first_invoke(client: Any, name: str, version: str) -> float:
    started = time.perf_counter()
    answer = client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    answer["Payload"].read()
    seconds = time.perf_counter() - started
    if answer.get("FunctionError"):
        raise RuntimeError(f"{name}:{version} failed")
    return seconds * 1000


def provision(client: Any, name: str, version: str) -> None:
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
        if status["Status"] == "READY":
            return
        if status["Status"] == "FAILED":
            raise RuntimeError(status.get("StatusReason"))
        time.sleep(0.01)
    raise RuntimeError(f"{name}:{version} never became READY")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    with platform_process(sandbox=True) as (endpoint, _pid):
        client = lambda_client(endpoint)
        deploy(client, "hello", make_zip({"app.py": HELLO_FUNCTION}), url=False)
        first_invoke(client, "hello", new_version(client, "hello", -1))  # compiles bytecode
        cold, warm = [], []
        for index in range(rounds):
            cold.append(first_invoke(client, "hello", new_version(client, "hello", 2 * index)))
            version = new_version(client, "hello", 2 * index + 1)
            provision(client, "hello", version)
            warm.append(first_invoke(client, "hello", version))
            client.delete_provisioned_concurrency_config(FunctionName="hello", Qualifier=version)
        for label, values in (("cold start", cold), ("provisioned", warm)):
            print(
                f"{label:>12}: {len(values)} first invokes, median "
                f"{statistics.median(values):.1f} ms, p90 {percentile(values, 0.9):.1f} ms"
            )


if __name__ == "__main__":
    main()
