"""@rawhttp answers streamed from generators; ``?kind=`` picks one, ``?gate=PATH`` names a file
the gated ones wait for (up to 30 s) before their last item."""
import asyncio
import os
import time

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse

GATE_TIMEOUT = 30.0


def init():
    pass


def words():
    yield "héllo "
    yield b"bytes "
    yield ""  # nothing to send: no chunk (an empty one would end the body)
    yield "world"


def gated(path):
    yield "first"
    deadline = time.monotonic() + GATE_TIMEOUT
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    yield "second"


async def async_words():
    yield "héllo "
    await asyncio.sleep(0)
    yield b"bytes "


async def async_gated(path):
    yield "first"
    deadline = time.monotonic() + GATE_TIMEOUT
    while not os.path.exists(path) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    yield "second"


def failing():
    yield "first"
    raise ValueError("the generator failed half-way")


@rawhttp
def run(request: AMLRequest):
    kind = request.args.get("kind")
    gate = request.args.get("gate", "")
    if kind == "words":
        return AMLResponse(words(), 200)
    if kind == "event-stream":
        return AMLResponse(words(), 201, {"Content-Type": "text/event-stream"})
    if kind == "list":
        return AMLResponse(["x", b"y"], 200)
    if kind == "empty":
        return AMLResponse(iter(()), 200)
    if kind == "gated":
        return AMLResponse(gated(gate), 200)
    if kind == "failing":
        return AMLResponse(failing(), 200)
    if kind == "async-words":
        return AMLResponse(async_words(), 200)
    if kind == "async-gated":
        return AMLResponse(async_gated(gate), 200)
    return AMLResponse(f"unknown kind {kind!r}", 400)
