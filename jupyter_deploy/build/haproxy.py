"""The load balancer in front of a Swarm service's replicas: its configuration and its image.

Swarm's own routing mesh needs IPVS (missing on many laptops and CI machines) and cannot publish
on 127.0.0.1 alone, so each Swarm deployment gets a small HAProxy container on the service's
overlay network, published on the loopback interface. HAProxy finds the replicas through Swarm's
DNS (``tasks.<service>``), health-checks each on the server's route, and retries a request whose
connection a stopping replica refused — which is what keeps a rolling update free of failed
requests. The deployment settings the SDK puts on the service map onto HAProxy's own knobs:
``scoring_timeout_ms`` → ``timeout server``, ``replica_max_concurrent_requests`` → each
replica's ``maxconn``, ``max_request_wait_time`` → ``timeout queue``.

This module writes text only (no Docker): the engine layer builds and runs what it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The port HAProxy listens on inside its container (published on 127.0.0.1:<service port>).
LISTEN_PORT = 8080
#: Debian packages that make HAProxy run on the default base image (Debian bookworm), beyond
#: what that image already has (libc, libssl, libpcre2, libsystemd, libstdc++).
PACKAGES = ("haproxy", "liblua5.3-0", "libopentracing-c-wrapper0", "libopentracing1")
#: Most replicas one load balancer follows (HAProxy's ``server-template`` slots).
MAX_REPLICAS = 32
#: The response header naming the replica that answered (shows that every replica takes traffic).
REPLICA_HEADER = "X-Served-By"


@dataclass(frozen=True)
class Balancing:
    """What the load balancer needs to know of one service."""

    service: str
    server_port: int = 5001
    health_path: str = "/"
    timeout_ms: int = 60000
    max_concurrent: int = 0  # per replica; 0 = no limit
    queue_wait_ms: int = 500


def config(b: Balancing) -> str:
    """``haproxy.cfg`` for one service: replicas found by DNS, checked, retried on refusal."""
    maxconn = f" maxconn {b.max_concurrent}" if b.max_concurrent > 0 else ""
    return "\n".join([
        "global",
        "    maxconn 4096",
        "    log stdout format raw local0 info",
        "defaults",
        "    mode http",
        "    log global",
        # The load balancer's log (`docker logs jd-lb-<service>`) has the requests that failed,
        # not the ones that went well.
        "    option httplog",
        "    option dontlog-normal",
        "    option dontlognull",
        "    timeout connect 2s",
        "    timeout client 120s",
        f"    timeout server {b.timeout_ms}ms",
        f"    timeout queue {b.queue_wait_ms}ms",
        # A request whose connection a stopping replica refused goes to another replica.
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response",
        "resolvers swarm",
        "    nameserver dns 127.0.0.11:53",
        "    hold valid 1s",
        "    hold obsolete 1s",
        "frontend service",
        f"    bind *:{LISTEN_PORT}",
        "    default_backend replicas",
        "backend replicas",
        "    balance roundrobin",
        f"    option httpchk GET {b.health_path}",
        f"    http-response set-header {REPLICA_HEADER} %[srv_name]",
        f"    server-template replica {MAX_REPLICAS} tasks.{b.service}:{b.server_port} check "
        f"inter 1s fall 2 rise 1 resolvers swarm init-addr none{maxconn}",
        "",
    ])


def dockerfile(base_image: str) -> str:
    """An image with HAProxy from Debian packages unpacked on ``base_image`` (no network).

    The packages are unpacked, not installed: their maintainer scripts (users, init systems)
    mean nothing in a container, and only ``/usr`` is taken, so the base image's merged-``/usr``
    links stay intact.
    """
    return "\n".join([
        f"FROM {base_image}",
        "COPY debs/ /tmp/debs/",
        "RUN mkdir /tmp/unpacked && for deb in /tmp/debs/*.deb; do "
        "dpkg-deb -x \"$deb\" /tmp/unpacked; done "
        "&& cp -a /tmp/unpacked/usr/. /usr/ && rm -rf /tmp/debs /tmp/unpacked "
        "&& mkdir -p /etc/haproxy && /usr/sbin/haproxy -v",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"EXPOSE {LISTEN_PORT}",
        'CMD ["/usr/sbin/haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]',
        "",
    ])
