"""A small token server for Distribution's token auth, signing JWTs with a throwaway test key.

A real registry configured with ``auth.token`` sends clients to this server's ``/token`` with a
``service`` and ``scope``; the server checks Basic credentials against its users and answers a
JWT (RS256, the certificate in ``x5c``) granting the requested actions. The registry trusts it
through ``rootcertbundle`` = :attr:`TokenServer.cert_path`. Test code only.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "jupyter-deploy-test-registry"
ISSUER = "jupyter-deploy-test-token-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenServer:
    """Serves ``/token`` on 127.0.0.1:``port`` until :meth:`stop`.

    Args:
        port: where to listen (the test's own range).
        folder: where the certificate is written.
        users: username → password that may log in.
        token_field: ``"token"`` or ``"access_token"`` (both are in the spec).
    """

    def __init__(self, port: int, folder: Path, users: dict[str, str],
                 token_field: str = "token") -> None:
        self.port = port
        self.users = users
        self.token_field = token_field
        self.requests: list[dict[str, Any]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._cert = _self_signed(self._key)
        self.cert_path = folder / "token-root.pem"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        """The URL registries send clients to."""
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> TokenServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact RS256 JWT over ``claims`` with the certificate in ``x5c``."""
        der = self._cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def issue(self, user: str, service: str, scopes: list[str]) -> str:
        """A token for ``user`` granting every requested scope."""
        now = int(time.time())
        return self.sign({
            "iss": ISSUER, "sub": user, "aud": service, "iat": now, "nbf": now - 10,
            "exp": now + 300, "jti": uuid.uuid4().hex, "access": [_access(s) for s in scopes],
        })

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                user = _basic_user(self.headers.get("Authorization", ""), server.users)
                server.requests.append({"user": user, "scope": query.get("scope", [])})
                if user is None:
                    self._answer(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                    return
                service = query.get("service", [SERVICE])[0]
                token = server.issue(user, service, query.get("scope", []))
                self._answer(200, {server.token_field: token, "expires_in": 300})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``server.requests`` instead."""

        return Handler


def _basic_user(header: str, users: dict[str, str]) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    username, _, password = base64.b64decode(value).decode().partition(":")
    return username if users.get(username) == password else None


def _access(scope: str) -> dict[str, Any]:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return {"type": kind, "name": name, "actions": actions.split(",")}


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jupyter-deploy test tokens")])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
