"""One tab's request interception over its own CDP session (the Fetch domain), for browser mode.

Why not Playwright's `route`: any Playwright route makes Playwright turn Chromium's cache off for
the whole context (`Network.setCacheDisabled`), so every page of a tab asked again for the same
megabyte of scripts, each answer went base64 through node and Python, and V8 compiled it all again.
Intercepting here, on the tab's own session, leaves Blink's memory cache on: a script or
stylesheet a tab was given for one page is reused for the next from the renderer's memory (nothing
is fetched, by anyone) together with its compiled code. Every request that does leave a renderer
is still paused here before the network service (its HTTP cache included) sees it.

What this session sees (Chromium 156, tests/integration/crawler/test_crawl_browser_isolation.py):
the page's requests, its dedicated workers' (their scripts, fetch and XHR; a worker started from a
blob: URL included), all with the tab's main frame id; and what an opener writes into a blank popup
(`window.open('')`): that document takes its opener's loaders, so its scripts, stylesheets and
fetches come here as the opener's own, and are answered or refused by the same rules until the
popup is closed. What it does not see (a popup's own navigation) has no route and ends in the
black hole, as anything else Chromium asks by itself.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# The Fetch domain's resource types are not the Network domain's (that Playwright went by): it calls
# both fetch() and XHR "XHR", a <link rel=prefetch> "Fetch", and a dedicated worker's script, like a
# favicon, "Other". A worker's script is told apart by the Network domain's event for it ("Script"),
# which, the browser starting that request, comes before the pause.
FETCH_TYPES = {"fetch": "prefetch"}  # Fetch domain's name (lower-cased) -> the route's, where they differ
MAX_TYPED = 256  # browser-started script requests remembered per tab


@dataclass(frozen=True)
class Paused:
    """A request paused in a tab, as the route sees it."""

    id: str
    url: str
    method: str
    headers: dict[str, str]  # names lower-cased
    resource_type: str  # lower-case, as Playwright names them: document, script, xhr, fetch, other…
    main_frame: bool


class TabRoute:
    """Pauses every request of one tab and hands it to `handler`, which answers with `fulfill` or
    `abort`; requests are handled concurrently, each in its own task."""

    def __init__(self, session: Any, handler: Callable[[TabRoute, Paused], Awaitable[None]]) -> None:
        self._session = session
        self._handler = handler
        self._main_frame = ""
        self._scripts: OrderedDict[str, None] = OrderedDict()  # network ids the Network domain calls Script
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        tree = await self._session.send("Page.getFrameTree")
        self._main_frame = tree["frameTree"]["frame"]["id"]
        self._session.on("Network.requestWillBeSent", self._sent)
        self._session.on("Fetch.requestPaused", self._paused)
        # No bodies kept for this session: it only reads request types.
        await self._session.send("Network.enable", {"maxTotalBufferSize": 0, "maxResourceBufferSize": 0})
        every = [{"urlPattern": "*", "requestStage": "Request"}]
        await self._session.send("Fetch.enable", {"patterns": every})

    def _sent(self, event: dict) -> None:
        if event.get("type") == "Script":
            self._scripts[event["requestId"]] = None
            while len(self._scripts) > MAX_TYPED:
                self._scripts.popitem(last=False)

    def _paused(self, event: dict) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _type(self, event: dict) -> str:
        rtype = event.get("resourceType", "Other").lower()
        network_id = event.get("networkId", "")
        if network_id in self._scripts:
            del self._scripts[network_id]
            if rtype == "other":
                return "script"  # a dedicated worker's script
        return FETCH_TYPES.get(rtype, rtype)

    async def _handle(self, event: dict) -> None:
        request = event["request"]
        try:
            headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
            rtype = self._type(event)
            if "prefetch" in headers.get("sec-purpose", "") or "prefetch" in headers.get("purpose", ""):
                rtype = "prefetch"
            paused = Paused(id=event["requestId"], url=request["url"], method=request.get("method", "GET"),
                            headers=headers, resource_type=rtype,
                            main_frame=event.get("frameId") == self._main_frame)
            await self._handler(self, paused)
        except Exception as exc:  # the tab or browser went away meanwhile: the request went with it
            logger.debug("route for %s: %s", request.get("url", "")[:200], exc)

    async def fulfill(self, paused: Paused, status: int, headers: dict[str, str], body: bytes | str) -> None:
        """Answers the request; `body` as bytes, or already in base64 (a cached asset's)."""
        encoded = body if isinstance(body, str) else base64.b64encode(body).decode("ascii")
        await self._session.send("Fetch.fulfillRequest", {
            "requestId": paused.id, "responseCode": status,
            "responseHeaders": [{"name": k, "value": v} for k, v in headers.items()],
            "body": encoded,
        })

    async def abort(self, paused: Paused, reason: str = "Failed") -> None:
        """Fails the request ("Aborted": as a cancelled navigation, the page stays)."""
        await self._session.send("Fetch.failRequest", {"requestId": paused.id, "errorReason": reason})
