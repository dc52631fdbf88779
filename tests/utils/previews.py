"""Local fake of the public invite-preview endpoints (t.me, Discord API, WhatsApp, Kakao, LINE) on 127.0.0.1.

Point the LINKWATCH_*_URL settings at `fake.bases()` / `fake.env()`. What a code gets is chosen by its
prefix (synthetic codes only):

| prefix     | answer                                                                    |
| ---------- | ------------------------------------------------------------------------- |
| `live`     | the platform's live preview (title, member count, description)            |
| `dead`     | the platform's expired / unknown invite answer                            |
| `odd`      | a page we cannot read (a "verify you are human" wall): must be unknown    |
| `block`    | HTTP 403                                                                  |
| `err`      | HTTP 500 every time                                                       |
| `rl`       | HTTP 429 with `Retry-After: <fake.retry_after>` the first `fake.fail_times` times, then live |
| `hostile`  | live, with a hostile title/description (NUL, ANSI escapes, bidi override, markup, 20k chars) |
| `hop`      | 302 to the same path with `hop` replaced by `live` on this host, which is then live |
| `away`     | 302 to an image on another host (must not be followed)                    |
| `pic`      | 200 with `Content-Type: image/jpeg` (must be refused)                     |
| `png`      | 200 labelled `text/html` whose body starts like a PNG (synthetic: a signature, then zeros); the rest of its 2 MB is sent only if the client did not hang up after the first chunk (`fake.whole_bodies`) |
| `drip`     | 200 whose body arrives one byte every 0.5 s (bounded by the check timeout) |

Where each shape comes from:
- Telegram (`/tg/+CODE`, `/tg/USERNAME`, `/tg/addlist/SLUG`): the public t.me preview page as served
  to a browser without Telegram: `og:title`/`og:description`/`og:image` meta tags, a
  `div.tgme_page` with `div.tgme_page_title > span`, `div.tgme_page_extra` ("1 234 members, 56
  online"; channels say "subscribers") and `div.tgme_page_description`. An expired or unknown
  invite keeps the frame, has og:title "Join group chat on Telegram", no `tgme_page_title` and no
  `tgme_page_extra`, and the description "If you have Telegram, you can contact … right away."
- Discord (`/discord/api/v10/invites/CODE?with_counts=true`): the Invite object of the Discord API
  v10 documentation (`code`, `expires_at`, `guild{id,name,description,icon,…}`, `channel`,
  `approximate_member_count`, `approximate_presence_count`); unknown invite: 404
  `{"message": "Unknown Invite", "code": 10006}`; rate limit: 429 with `Retry-After` and the JSON
  `{"message": "You are being rate limited.", "retry_after": …, "global": false}`.
- WhatsApp (`/wa/CODE`), KakaoTalk open chat (`/kakao/o/CODE`, `/kakao/me/ID`) and LINE
  (`/line/R/ti/g/TICKET`, `/line/ti/g2/ID`): these pages are undocumented; the fake models only what
  the parser relies on: a live page names the chat in `og:title` (WhatsApp also in an `<h3>`), an
  invalid link shows the platform's generic title and an "invalid / reset / expired link"
  sentence. Not verified against the live sites (no internet where this was written).

Every live page also carries `og:image` and an `<img>` pointing back at `/img/…` on this server, so
a test can prove from `fake.requests` that the checker never fetched an image.
"""

# ruff: noqa: E501  (page shapes are kept on one line each, as the real pages serve them)

from __future__ import annotations

import html
import json
import select
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

HOSTILE_TITLE = (
    "\x00Hostile\x1b[31m title\u202egnp.exe <script>alert(1)</script> =HYPERLINK(\"http://x\")\r\n"
    + "A" * 20000
)

TG_LIVE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Telegram: Join Group Chat</title>
<meta property="og:title" content="{title_attr}">
<meta property="og:image" content="{base}/img/{code}.jpg">
<meta property="og:site_name" content="Telegram">
<meta property="og:description" content="{desc_attr}">
</head><body class="no_transition"><div class="tgme_page_wrap">
<div class="tgme_head_wrap"><div class="tgme_head"><a href="//telegram.org/" class="tgme_head_brand">Telegram</a></div></div>
<div class="tgme_body_wrap"><div class="tgme_page">
<div class="tgme_page_photo"><a href="tg://join?invite={code}"><img class="tgme_page_photo_image" src="{base}/img/{code}.jpg"></a></div>
<div class="tgme_page_title"><span dir="auto">{title}</span></div>
<div class="tgme_page_extra">{extra}</div>
<div class="tgme_page_description" dir="auto">{desc}</div>
<div class="tgme_page_action"><a class="tgme_action_button_new shine" href="tg://join?invite={code}">Join Group</a></div>
</div></div></div></body></html>"""

TG_DEAD = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Join group chat on Telegram</title>
<meta property="og:title" content="Join group chat on Telegram">
<meta property="og:image" content="{base}/img/t_logo.png">
<meta property="og:site_name" content="Telegram">
</head><body class="no_transition"><div class="tgme_page_wrap">
<div class="tgme_body_wrap"><div class="tgme_page">
<div class="tgme_page_icon"><i class="tgme_icon_user"></i></div>
<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact <a class="tgme_username_link" href="tg://join?invite={code}">this chat</a> right away.</div>
</div></div></div></body></html>"""

WALL = """<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><h1>Please verify you are human</h1><form><input name="cf"></form></body></html>"""

OG_LIVE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{site}</title>
<meta property="og:title" content="{title_attr}">
<meta property="og:description" content="{desc_attr}">
<meta property="og:image" content="{base}/img/{code}.jpg">
</head><body><div class="preview"><img src="{base}/img/{code}.jpg" alt="">
<h3 class="_9vd5 _9scr">{title}</h3><p>{count_text}</p></div></body></html>"""

OG_DEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{site}</title>
<meta property="og:title" content="{generic}">
<meta property="og:image" content="{base}/img/logo.png">
</head><body><div class="preview"><p>{sentence}</p></div></body></html>"""

OG_SITES = {
    # platform: (site title, generic og:title on invalid links, invalid-link sentence, count text)
    "whatsapp": ("WhatsApp Group Invite", "WhatsApp Group Invite",
                 "This invite link was reset. Ask the group admin for a new link.", "{n} members"),
    "kakao": ("카카오톡 오픈채팅", "카카오톡 오픈채팅", "유효하지 않은 오픈채팅방 링크입니다.", "참여자 {n}명"),
    "line": ("LINE", "LINE", "This link is invalid or has expired.", "{n} members"),
}


def _prefix(code: str) -> str:
    for p in ("live", "dead", "odd", "block", "err", "rl", "hostile", "hop", "away", "pic", "drip", "png"):
        if code.lower().startswith(p):
            return p
    return "dead"


class FakePreviews:
    """The fake server: start(), bases()/env() for linkwatch, requests log, stop()."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # seconds added to every answer, to model a remote server's round trip
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.hits: Counter[str] = Counter()
        self.times: list[tuple[str, float]] = []  # (path, time.monotonic()) of every request
        self.retry_after = "1"
        self.fail_times = 1
        self.members = 1234
        self.whole_bodies: list[str] = []  # `png` paths whose whole body left the server
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> FakePreviews:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake.handle(self)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """LINKWATCH_* variables pointing every preview base URL at this fake."""
        return {
            "LINKWATCH_TELEGRAM_URL": f"{self.base}/tg",
            "LINKWATCH_DISCORD_API_URL": f"{self.base}/discord/api/v10",
            "LINKWATCH_WHATSAPP_URL": f"{self.base}/wa",
            "LINKWATCH_KAKAO_URL": f"{self.base}/kakao",
            "LINKWATCH_LINE_URL": f"{self.base}/line",
        }

    def media_requests(self) -> list[str]:
        """Paths of every image request the fake received (must stay empty)."""
        return [path for _, path, _ in self.requests if path.startswith("/img/")]

    # -- answers ------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = urlsplit(h.path).path
        with self.lock:
            self.requests.append((h.command, h.path, dict(h.headers.items())))
            self.times.append((path, time.monotonic()))
            self.hits[path] += 1
            hits = self.hits[path]
        if self.latency:
            time.sleep(self.latency)
        parts = [unquote(p) for p in path.split("/") if p]
        if not parts:
            return self.send(h, 404, "text/plain", "not found")
        if parts[0] == "img":
            # Serving it keeps the test honest: the assertion is on the log, not on a failed fetch.
            return self.send(h, 200, "image/jpeg", "\xff\xd8\xff")
        area, rest = parts[0], parts[1:]
        if area == "tg" and rest:
            code = rest[-1].lstrip("+")
            return self.answer(h, "telegram", code, hits)
        if area == "discord" and len(rest) >= 3 and rest[-2] == "invites":
            return self.answer(h, "discord", rest[-1], hits)
        if area == "wa" and rest:
            return self.answer(h, "whatsapp", rest[-1], hits)
        if area == "kakao" and rest:
            return self.answer(h, "kakao", rest[-1], hits)
        if area == "line" and rest:
            return self.answer(h, "line", rest[-1], hits)
        return self.send(h, 404, "text/plain", "not found")

    def disguised(self, h: BaseHTTPRequestHandler) -> None:
        body = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * (2 * 1024 * 1024)
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        try:
            h.wfile.write(body[:16384])
            h.wfile.flush()
            readable, _, _ = select.select([h.connection], [], [], 2.0)
            if readable and h.connection.recv(1, 0x40) == b"":  # MSG_DONTWAIT: the client hung up
                return
            h.wfile.write(body[16384:])
            h.wfile.flush()
        except OSError:
            return
        with self.lock:
            self.whole_bodies.append(h.path)

    def answer(self, h: BaseHTTPRequestHandler, platform: str, code: str, hits: int) -> None:
        kind = _prefix(code)
        if kind == "block":
            return self.send(h, 403, "text/html", WALL)
        if kind == "err":
            return self.send(h, 500, "text/html", "<h1>Internal Server Error</h1>")
        if kind == "rl" and hits <= self.fail_times:
            body = json.dumps({"message": "You are being rate limited.",
                               "retry_after": float(self.retry_after), "global": False})
            return self.send(h, 429, "application/json", body, {"Retry-After": self.retry_after})
        if kind == "odd":
            return self.send(h, 200, "text/html", WALL)
        if kind == "hop":
            target = urlsplit(h.path).path.replace("/hop", "/live", 1).replace("+hop", "+live", 1)
            return self.send(h, 302, "text/html", "", {"Location": target})
        if kind == "away":
            return self.send(h, 302, "text/html", "", {"Location": "http://elsewhere.invalid/a.jpg"})
        if kind == "pic":
            return self.send(h, 200, "image/jpeg", "\xff\xd8\xff")
        if kind == "png":
            return self.disguised(h)
        if kind == "drip":
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            try:
                for _ in range(40):
                    h.wfile.write(b"<")
                    h.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass  # the client gave up, as it should
            return None
        title = HOSTILE_TITLE if kind == "hostile" else f"Synthetic group {code}"
        desc = ("\x07" + HOSTILE_TITLE) if kind == "hostile" else "A made-up chat for tests."
        if platform == "discord":
            return self.discord(h, code, kind, title, desc)
        if platform == "telegram":
            if kind == "dead":
                return self.send(h, 200, "text/html", TG_DEAD.format(base=self.base, code=code))
            n = f"{self.members:,}".replace(",", " ")
            page = TG_LIVE.format(
                base=self.base, code=code, title=html.escape(title, quote=False),
                title_attr=html.escape(title), desc=html.escape(desc, quote=False),
                desc_attr=html.escape(desc), extra=f"{n} members, 56 online",
            )
            return self.send(h, 200, "text/html; charset=utf-8", page)
        site, generic, sentence, count_text = OG_SITES[platform]
        if kind == "dead":
            page = OG_DEAD.format(site=site, generic=generic, sentence=sentence, base=self.base)
            return self.send(h, 200, "text/html; charset=utf-8", page)
        page = OG_LIVE.format(
            site=site, base=self.base, code=code, title=html.escape(title, quote=False),
            title_attr=html.escape(title), desc_attr=html.escape(desc),
            count_text=count_text.format(n=self.members),
        )
        return self.send(h, 200, "text/html; charset=utf-8", page)

    def discord(self, h: BaseHTTPRequestHandler, code: str, kind: str, title: str, desc: str) -> None:
        if kind == "dead":
            body = json.dumps({"message": "Unknown Invite", "code": 10006})
            return self.send(h, 404, "application/json", body)
        body = json.dumps({
            "type": 0, "code": code, "expires_at": "2030-01-01T00:00:00+00:00",
            "guild": {"id": "100000000000000001", "name": title, "splash": None, "banner": None,
                      "description": desc, "icon": "a_0123456789abcdef", "features": [],
                      "verification_level": 1, "vanity_url_code": None, "nsfw_level": 0},
            "guild_id": "100000000000000001",
            "channel": {"id": "100000000000000002", "type": 0, "name": "general"},
            "approximate_member_count": self.members, "approximate_presence_count": 56,
        })
        return self.send(h, 200, "application/json", body)

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, ctype: str, body: str,
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)


def main() -> None:
    """`python -m tests.utils.previews [LATENCY_SECONDS]`: serve until stdin closes; prints the base URL."""
    import sys

    fake = FakePreviews(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0).start()
    print(fake.base, flush=True)
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
