"""Near-miss corpus for bench.extract: Korean board pages that mention messengers but mostly hold no invite.

Synthetic and seeded (issue #17's shape): about 30 KB per page; 15% of pages hold invite links (a
third of them disguised); most of the other 85% still mention messengers the way real boards do
(share and proxy links, phone links, `t.me` as a word, 텔레그램/디스코드/오픈채팅/discord in posts,
Discord channel links, Kakao share links); each site's footer names its own Telegram channel on
two sites in three; one page in five is EUC-KR. All codes, names and hosts are made up.
"""

from __future__ import annotations

import base64
import random
import string
from typing import NamedTuple
from urllib.parse import quote

from bench.extract import SYLLABLES, WORDS

_ALNUM = string.ascii_letters + string.digits
_SYLLABLES = SYLLABLES
_WORDS = (
    *WORDS, "장점", "단점", "만점", "점심", "플러스", "요약", "참고", "링크", "주소", "게임", "서버",
    "모바일", "업데이트", "버전",
)  # fmt: skip
# What link-free posts say about messengers (no invite in any of them).
_MENTIONS = (
    "텔레그램으로 연락 주세요", "디스코드 하시는 분 계신가요?", "오픈채팅방 링크는 규정상 삭제합니다",
    "discord 닉네임 알려주시면 추가할게요", "텔레그램 보안 설정 어떻게 하나요", "카카오톡 오픈채팅 홍보 금지",
    "t.me 링크는 올리지 마세요", "Telegram 업데이트 후 알림이 안 와요", "discord.com 접속이 느려요",
    "텔레그램 채널 홍보는 신고 대상입니다", "디스코드 서버 규칙 공지", "오픈채팅 사칭 주의",
    "join discord? no invite links here please", "kakao.com 계정 통합 안내", "텔레그램 @ 멘션 기능 질문",
    "점 세 개 찍고 슬래시 넣으면 되나요?", "10점 만점에 8점", "장점 단점 정리", "갤럭시 플러스 후기",
)  # fmt: skip
_BOARDS = (("free", "자유게시판"), ("humor", "유머"), ("qna", "질문답변"), ("notice", "공지사항"),
           ("game", "게임"), ("tip", "팁과정보"), ("photo", "사진"), ("market", "장터"))  # fmt: skip
_SCRIPT = (
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "var el=document.getElementById('content');if(el){el.classList.add('ready');}"
    "document.querySelectorAll('.btn-like').forEach(function(b){b.addEventListener('click',function(){"
    "fetch('/api/like?id='+b.dataset.id,{method:'POST'});});});"
    "function shareTg(u){window.open('https://t.me/share/url?url='+encodeURIComponent(u));}</script>"
)
_STYLE = (
    "<style>.post{margin:0 auto;line-height:1.6}.post-body p{color:#333}.cmt{padding:4px 0}"
    ".share a{display:inline-block}@media (max-width:600px){.nav,.side{display:none}}</style>"
)


class Site(NamedTuple):
    """One synthetic board: its host, and the Telegram channel its footer names (or none)."""

    host: str
    channel: str | None


def sites(rng: random.Random, n: int = 12) -> list[Site]:
    """`n` boards; two in three name their own (made-up) Telegram channel in the footer."""
    return [
        Site(f"board{i}.example.kr", f"SynthBoard{i}News" if rng.random() < 2 / 3 else None) for i in range(n)
    ]


def _code(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _sentence(rng: random.Random) -> str:
    words = [
        rng.choice(_WORDS) if rng.random() < 0.6 else "".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4)))
        for _ in range(rng.randint(5, 14))
    ]
    return " ".join(words) + rng.choice([".", "!", "?", "…", "~", "", " ㅋㅋ", " 👍"])


def _near_miss(rng: random.Random, site: Site) -> str:
    """A messenger mention that holds no invite: words, share/proxy/phone links, channel links."""
    n = rng.random()
    if n < 0.45:
        return rng.choice(_MENTIONS)
    if n < 0.55:
        server = f"proxy{rng.randint(1, 99)}.example.net"
        return f"프록시 t.me/proxy?server={server}&port=443&secret=ee{_code(rng, 32)}"
    if n < 0.65:
        return f"연락처 https://t.me/+8210{rng.randint(10_000_000, 99_999_999)} 로 문자"
    if n < 0.72:
        share = quote(f"https://{site.host}/view?id={rng.randint(1, 10**6)}", safe="")
        return f'<a href="https://t.me/share/url?url={share}&amp;text=%EA%B8%80">텔레그램으로 공유</a>'
    if n < 0.80:
        return f"https://discord.com/channels/{rng.randint(10**17, 10**18)}/{rng.randint(10**17, 10**18)}"
    if n < 0.86:
        return f"tg://resolve?phone=8210{rng.randint(10_000_000, 99_999_999)}"
    if n < 0.93:
        share = quote(f"https://{site.host}/view?id={rng.randint(1, 10**6)}", safe="")
        return f'<a href="https://story.kakao.com/share?url={share}">카카오스토리</a>'
    return f"https://www.youtube.com/watch?v={_code(rng, 11)} 영상 참고"


def _invite(rng: random.Random) -> tuple[str, bool]:
    """One synthetic invite (made-up code) and whether it is disguised; about a third are."""
    c = _code(rng, rng.randint(12, 20), _ALNUM + "_-")
    if rng.random() < 1 / 3:
        forms = [
            f"t[.]me/+{c}",
            f"ｔ．ｍｅ/+{c}",
            f"discord dot gg/{_code(rng, 8)}",
            f"텔레그램 @Synth{_code(rng, 6, string.ascii_lowercase)}",
            f"open. kakao. com/o/g{_code(rng, 7)}",
            f"hxxps://t.me/+{c}",
            f"t.me/<b></b>+{c}",
        ]
        return rng.choice(forms), True
    forms = [
        f"https://t.me/+{c}",
        f"t.me/joinchat/{c}",
        f'<a href="https://t.me/+{c}">입장</a>',
        f"https://discord.gg/{_code(rng, 8)}",
        f"https://open.kakao.com/o/g{_code(rng, 7)}",
        f'<a href="/go.php?url={quote("https://t.me/+" + c, safe="")}">링크</a>',
        f'<a href="/out?u={base64.b64encode(f"https://t.me/+{c}".encode()).decode()}">바로가기</a>',
        f"https://line.me/ti/g/{_code(rng, 10)}",
        f"https://chat.whatsapp.com/{_code(rng, 22)}",
    ]
    return rng.choice(forms), False


def page(rng: random.Random, site: Site, invites: int, charset: str = "utf-8") -> str:
    """A board view page (~30 KB): navigation, sidebar, one post and its comments, share bar, footer."""
    nav = "".join(
        f'<li class="nav-item"><a href="https://{site.host}/board/{b}/list.php?page=1">{w}</a></li>'
        for b, w in _BOARDS
    )
    side = "".join(
        f'<li><a href="/board/{rng.choice(_BOARDS)[0]}/view.php?id={rng.randint(1, 10**6)}">'
        f"{_sentence(rng)[:24]}</a> <span class=\"cnt\">[{rng.randint(1, 99)}]</span></li>"
        for _ in range(12)
    )
    near = rng.randint(1, 6) if rng.random() < 0.85 else 0  # most pages mention messengers somewhere
    blocks: list[str] = []
    for i in range(rng.randint(36, 56)):
        paras = [_sentence(rng) for _ in range(rng.randint(1, 3))]
        if invites and rng.random() < 0.5:
            form, _ = _invite(rng)
            paras.append(f"{rng.choice(_WORDS)} {form} {rng.choice(_WORDS)}")
            invites -= 1
        if near and rng.random() < 0.2:
            paras.append(_near_miss(rng, site))
            near -= 1
        body = "<br>".join(paras)
        when = f"2026-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        blocks.append(
            f'<li class="cmt" id="c{i}"><div class="cmt-head">'
            f'<span class="nick">회원{rng.randint(1, 9999)}</span><span class="date">{when}</span>'
            f'<img class="lv" src="/img/lv/{rng.randint(1, 30)}.gif" alt=""></div>'
            f'<div class="cmt-body">{body}</div><div class="cmt-foot">'
            f'<a class="btn-like" data-id="{rng.randint(1, 10**6)}" href="#">추천 {rng.randint(0, 99)}</a> '
            f'<a href="/board/free/view.php?id={rng.randint(1, 10**6)}&amp;c={i}#reply">답글</a></div></li>'
        )
    while invites:  # the rest of the page's invites go into the post body
        form, _ = _invite(rng)
        blocks.insert(0, f"<li class=\"cmt\"><p>{rng.choice(_WORDS)} {form}</p></li>")
        invites -= 1
    post_id = rng.randint(1, 10**6)
    post = "".join(f"<p>{_sentence(rng)}</p>" for _ in range(rng.randint(4, 10)))
    share = quote(f"https://{site.host}/board/free/view.php?id={post_id}", safe="")
    footer_channel = (
        f'공식 텔레그램 채널 <a href="https://t.me/{site.channel}">t.me/{site.channel}</a> · '
        if site.channel
        else ""
    )
    return (
        f'<!DOCTYPE html><html lang="ko"><head><meta charset="{charset}">'
        f"<title>{_sentence(rng)[:30]} - 자유게시판</title>"
        f'<meta property="og:url" content="https://{site.host}/board/free/view.php?id={post_id}">'
        f'<link rel="stylesheet" href="/css/style.css?v=3">{_STYLE}</head><body>'
        f'<header><nav class="nav"><ul>{nav}</ul></nav></header>'
        f'<aside class="side"><h3>인기글</h3><ul>{side}</ul></aside>'
        f'<main class="board"><article class="post" id="post-{post_id}"><h1>{_sentence(rng)}</h1>'
        f'<div class="post-body">{post}</div>'
        f'<div class="share"><a href="https://t.me/share/url?url={share}" onclick="shareTg(location.href);'
        f'return false;">텔레그램 공유</a> <a href="https://story.kakao.com/share?url={share}">카카오</a> '
        f'<a href="https://twitter.com/intent/tweet?url={share}">X</a></div></article>'
        f'<ul class="comments">{"".join(blocks)}</ul></main>'
        f"<footer>{footer_channel}디스코드 서버 준비중 · 이용약관 · 개인정보처리방침 · "
        f"문의 help@{site.host} © 2026</footer>{_SCRIPT}</body></html>"
    )


def corpus(pages: int, seed: int) -> list[bytes]:
    """`pages` pages as bytes: 15% with invites (1441 per 1,000 pages on average), one in five EUC-KR."""
    rng = random.Random(seed)
    boards = sites(rng)
    out = []
    for _ in range(pages):
        site = rng.choice(boards)
        invites = rng.randint(3, 16) if rng.random() < 0.15 else 0
        if rng.random() < 0.2:
            html = page(rng, site, invites, "euc-kr")
            out.append(html.encode("cp949", "xmlcharrefreplace"))  # emoji become character references
        else:
            out.append(page(rng, site, invites).encode())
    return out
