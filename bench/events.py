"""Benchmark the platform's asynchronous invocations (issue 7's figures).

Run: ``.venv/bin/python bench/events.py [--quick]``. Prints:

1. Events queued per second: ``Invoke`` with ``InvocationType=Event`` answered 202 (each
   one committed to SQLite with ``synchronous=FULL`` first), from 1 and from 4 keep-alive
   clients: to a function with reserved concurrency 0 (the events pile up; the queue
   still tries and backs off), and to a warm function that runs them as they come.
2. End-to-end latency of an async invoke: from sending the request to the warm function
   starting to run it (the function writes ``time.time()`` as its first act), one event
   at a time; also how long the 202 took.
3. Loss under repeated ``kill -9``: a sender queues events while the platform (process
   group: the platform and its function processes) is killed with SIGKILL and restarted
   several times; afterwards every acknowledged event must have been delivered. Prints
   acknowledged, delivered, lost (goal: 0) and duplicates (allowed only for events in
   flight at a kill).

Each platform is a process of its own on an ephemeral loopback port with a fresh
``$STRUM_HOME``; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

# Shared helpers (platform process, boto3 client, zips); bench/ is first on sys.path.
import embedded_platform as shared

# The first thing it does is note when it started and for which request.
RECORDER = """
import os, time

def handler(event, context):
    line = f"{context.aws_request_id} {time.time()}\\n".encode()
    fd = os.open(os.environ["RECORD"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, line)
    os.close(fd)
    pause = event.get("pause") if isinstance(event, dict) else None
    if pause:
        time.sleep(pause)
"""


class EventSender:
    """``InvocationType=Event`` over one keep-alive connection, with the raw API."""

    def __init__(self, endpoint: str, function: str) -> None:
        url = urlsplit(endpoint)
        self.endpoint = endpoint
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = f"/2015-03-31/functions/{function}/invocations"
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def send(self, payload: bytes) -> str:
        """Queue one event; answers its request id (raises if it was not acknowledged)."""
        request = shared.api_request(
            self.endpoint, self.path, method="POST", data=payload,
            headers={"X-Amz-Invocation-Type": "Event"},
        )  # fmt: skip
        self.connection.request("POST", self.path, body=payload, headers=dict(request.headers))
        response = self.connection.getresponse()
        response.read()
        if response.status != 202:
            raise RuntimeError(f"HTTP {response.status}")
        return str(response.getheader("x-amzn-RequestId"))

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def close(self) -> None:
        self.connection.close()


def read_record(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            rows.append((parts[0], float(parts[1])))
    return rows


def enqueue_rate(count: int) -> None:
    print("\n1. Events queued per second (202 = committed with synchronous=FULL)")
    with tempfile.TemporaryDirectory() as scratch, shared.platform_process() as (endpoint, _):
        client = shared.lambda_client(endpoint)
        zipped = shared.make_zip({"app.py": RECORDER})
        shared.deploy(client, "held", zipped, env={"RECORD": f"{scratch}/record"}, url=False)
        client.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
        shared.deploy(client, "runs", zipped, env={"RECORD": f"{scratch}/runs"}, url=False)
        payload = b'{"n": 1}'
        for function, clients in (("held", 1), ("held", 4), ("runs", 1), ("runs", 4)):
            per_client = count // clients
            senders = [EventSender(endpoint, function) for _ in range(clients)]
            for sender in senders:
                sender.send(payload)  # connect before timing
            barrier = threading.Barrier(clients + 1)

            def run(sender: EventSender, barrier: threading.Barrier, count: int) -> None:
                barrier.wait()
                for _ in range(count):
                    sender.send(payload)

            threads = [threading.Thread(target=run, args=(s, barrier, per_client)) for s in senders]
            for thread in threads:
                thread.start()
            barrier.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join(timeout=300)
            elapsed = time.perf_counter() - started
            for sender in senders:
                sender.close()
            rate = per_client * clients / elapsed
            print(f"   {function}, {clients} client(s): {per_client * clients} events in {elapsed:.2f} s "
                  f"= {rate:,.0f} events/s ({elapsed / (per_client * clients) * 1e3 * clients:.2f} ms "
                  "per event per client)")  # fmt: skip
        client.close()


def end_to_end(count: int) -> None:
    print("\n2. End-to-end latency of an async invoke (send -> function running), warm")
    with tempfile.TemporaryDirectory() as scratch, shared.platform_process() as (endpoint, _):
        record = Path(scratch) / "record"
        client = shared.lambda_client(endpoint)
        shared.deploy(
            client, "rec", shared.make_zip({"app.py": RECORDER}), env={"RECORD": str(record)},
            url=False,
        )  # fmt: skip
        client.close()
        sender = EventSender(endpoint, "rec")
        latencies, acks = [], []
        seen = 0
        for index in range(count + 5):
            started = time.time()
            ack_start = time.perf_counter()
            sender.send(b"{}")
            acks.append(time.perf_counter() - ack_start)
            deadline = time.monotonic() + 10
            while True:
                rows = read_record(record)
                if len(rows) > seen:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("an event was not delivered within 10 s")
                time.sleep(0.0002)
            seen = len(rows)
            if index >= 5:  # the first ones start the instance
                latencies.append(rows[-1][1] - started)
        sender.close()
    ms = [value * 1e3 for value in latencies]
    ack_ms = [value * 1e3 for value in acks[5:]]
    print(f"   {count} events: p50 {statistics.median(ms):.2f} ms, "
          f"p90 {shared.percentile(ms, 0.9):.2f} ms, p99 {shared.percentile(ms, 0.99):.2f} ms")  # fmt: skip
    print(f"   202 answered after: p50 {statistics.median(ack_ms):.2f} ms, "
          f"p99 {shared.percentile(ack_ms, 0.99):.2f} ms")  # fmt: skip


class Platform:
    """A platform process on one home that can be killed with SIGKILL and started again."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        address = self.home / "platform.json"
        address.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", shared.PLATFORM_PROCESS, str(self.home), "{}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not address.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the platform did not start")
            time.sleep(0.01)
        endpoint = str(json.loads(address.read_text())["endpoint"])
        shared.remember_home(endpoint, self.home)
        return endpoint

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


def kill_nine(events: int, kills: int) -> None:
    print(f"\n3. Loss under repeated kill -9 ({kills} kills while {events} events are sent)")
    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "record"
        platform = Platform(Path(scratch) / "home")
        endpoint = platform.start()
        client = shared.lambda_client(endpoint)
        shared.deploy(
            client, "steady", shared.make_zip({"app.py": RECORDER}),
            env={"RECORD": str(record)}, url=False,
        )  # fmt: skip
        client.put_function_concurrency(FunctionName="steady", ReservedConcurrentExecutions=2)
        client.close()
        acknowledged: list[str] = []
        unanswered = 0
        endpoint_box = [endpoint]
        up = threading.Event()
        up.set()
        finished = threading.Event()

        def send_all() -> None:
            nonlocal unanswered
            sender = EventSender(endpoint_box[0], "steady")
            payload = json.dumps({"pause": 0.01}).encode()
            deadline = time.monotonic() + 300
            while len(acknowledged) < events and time.monotonic() < deadline:
                up.wait(timeout=30)
                try:
                    acknowledged.append(sender.send(payload))
                except (OSError, http.client.HTTPException, RuntimeError):
                    unanswered += 1  # maybe queued, maybe not: not counted as acknowledged
                    up.wait(timeout=30)
                    sender.close()
                    sender = EventSender(endpoint_box[0], "steady")
            sender.close()
            finished.set()

        in_flight_at_kills: set[str] = set()
        sender_thread = threading.Thread(target=send_all)
        sender_thread.start()
        for _ in range(kills):
            if finished.wait(timeout=random.uniform(0.3, 0.8)):
                break
            up.clear()
            platform.kill()
            in_flight_at_kills |= in_flight(platform.home)
            endpoint_box[0] = platform.start()
            up.set()
        sender_thread.join(timeout=330)
        delivered_at_end = drain(platform, record, set(acknowledged), timeout=60)
        platform.stop()
        still_queued = len(queued(platform.home)) if not delivered_at_end else 0
        got = [request_id for request_id, _ in read_record(record)]
    unique = set(got)
    lost = set(acknowledged) - unique
    duplicates = {request_id for request_id in unique if got.count(request_id) > 1}
    print(f"   acknowledged {len(acknowledged)}, delivered {len(unique & set(acknowledged))} "
          f"(+{len(unique - set(acknowledged))} whose 202 was cut off by a kill; "
          f"{unanswered} sends unanswered)")  # fmt: skip
    if still_queued:
        print(f"   the queue had not drained when the time limit hit: {still_queued} event(s) "
              "still queued, so this run cannot tell loss from delay")  # fmt: skip
    print(f"   lost: {len(lost) - still_queued} (goal 0); delivered twice: {len(duplicates)}, "
          f"of which in flight at a kill: {len(duplicates & in_flight_at_kills)}")  # fmt: skip


def queued(home: Path) -> list[tuple[str, str]]:
    """(request id, state) of every event in the queue's database."""
    import sqlite3

    db = sqlite3.connect(home / "queue.db")
    try:
        return [(row[0], row[1]) for row in db.execute("SELECT request_id, state FROM events")]
    finally:
        db.close()


def in_flight(home: Path) -> set[str]:
    return {request_id for request_id, state in queued(home) if state == "inflight"}


def drain(platform: Platform, record: Path, wanted: set[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= {request_id for request_id, _ in read_record(record)}:
            return True
        time.sleep(0.05)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events, rough numbers")
    parser.add_argument(
        "--only", choices=("queue", "latency", "kill"), help="run one of the three parts"
    )
    args = parser.parse_args()
    quick = args.quick
    print(f"strum async invocations - Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if args.only in (None, "queue"):
        enqueue_rate(400 if quick else 4000)
    if args.only in (None, "latency"):
        end_to_end(50 if quick else 300)
    if args.only in (None, "kill"):
        kill_nine(300 if quick else 1000, 2 if quick else 5)


if __name__ == "__main__":
    main()
