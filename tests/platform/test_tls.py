"""TLS: a generated certificate serves HTTPS for its names and is pinned by trusting it alone."""

from __future__ import annotations

import socket
import ssl
import stat
import threading

import pytest

from strum.platform.tls import TlsError, generate, load


def serve_once(context: ssl.SSLContext) -> tuple[int, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer():
        with listener:
            listener.settimeout(10)
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"hello over tls")
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return port, thread


def fetch(port: int, client: ssl.SSLContext, server_name: str) -> bytes:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with raw, client.wrap_socket(raw, server_hostname=server_name) as tls:
        return tls.recv(100)


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_a_generated_certificate_verifies_for_its_names_when_pinned(tmp_path, name):
    files = generate(["localhost", "127.0.0.1"], tmp_path)
    port, thread = serve_once(files.server_context())
    pinned = ssl.create_default_context(cafile=str(files.certificate))
    assert fetch(port, pinned, name) == b"hello over tls"
    thread.join(10)


def test_without_pinning_the_self_signed_certificate_is_refused(tmp_path):
    files = generate(["localhost"], tmp_path)
    port, thread = serve_once(files.server_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(port, ssl.create_default_context(), "localhost")
    thread.join(10)


def test_a_name_not_in_the_certificate_is_refused(tmp_path):
    files = generate(["faas.example.org"], tmp_path)
    port, thread = serve_once(files.server_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(port, ssl.create_default_context(cafile=str(files.certificate)), "localhost")
    thread.join(10)


def test_the_key_is_private_and_the_certificate_is_reused_for_the_same_names(tmp_path):
    files = generate(["faas.example.org", "192.0.2.10"], tmp_path)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    fingerprint = files.fingerprint()
    assert len(fingerprint.split(":")) == 32
    assert generate(["192.0.2.10", "faas.example.org"], tmp_path).fingerprint() == fingerprint
    assert generate(["other.example.org"], tmp_path).fingerprint() != fingerprint


def test_given_files_are_checked(tmp_path):
    files = generate(["localhost"], tmp_path / "a")
    assert load(files.certificate, files.key) == files
    other = generate(["localhost"], tmp_path / "b")
    with pytest.raises(TlsError, match="PEM private key that belongs to it"):
        load(files.certificate, other.key)
    with pytest.raises(TlsError, match="does not exist"):
        load(tmp_path / "missing.crt", files.key)
    with pytest.raises(TlsError, match="at least one name"):
        generate([], tmp_path)
