"""Web pages written for the tests, and a real HTTP server on 127.0.0.1 that serves them.

Pages wrap the project's own reports (``evals/reports``) in the boilerplate of a news site:
navigation, a sidebar of headlines, share buttons, related links, comments and a footer,
with the publication date in meta tags and JSON-LD, or in JSON-LD only. The server also
serves what a fetcher must survive: redirects and a redirect loop, 404 and 500, a page that
fails before it answers, a slow page, a page that drips a byte at a time, binary content, a
huge page, a page with no main text, ETag revalidation and a page whose content changes.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from paths import REPORTS_DIR

SITE = "مرصد الشمال السوري"
NAV = """<header class="site-header"><div class="logo">{site}</div><nav class="menu"><ul>
<li><a href="/">الرئيسية</a></li><li><a href="/news">أخبار</a></li>
<li><a href="/reports">تقارير شهرية</a></li><li><a href="/maps">خرائط</a></li>
<li><a href="/about">من نحن</a></li><li><a href="/contact">اتصل بنا</a></li></ul></nav>
<form class="search"><input name="q" placeholder="ابحث في الموقع"><button>بحث</button></form>
</header>"""
SIDEBAR = """<aside class="sidebar widget"><h3>الأكثر قراءة</h3><ul>
<li><a href="/n/1">ارتفاع جديد في أسعار المحروقات يثقل كاهل سكان الريف الشرقي</a></li>
<li><a href="/n/2">افتتاح مدرسة في بلدة الصور بعد ترميمها من قبل منظمة محلية</a></li>
<li><a href="/n/3">انقطاع المياه عن أحياء في مدينة الحسكة لليوم الثالث على التوالي</a></li>
</ul><div class="newsletter">اشترك في نشرتنا البريدية ليصلك كل جديد</div></aside>"""
SHARE = """<div class="share-buttons"><span>شارك:</span><a href="#fb">فيسبوك</a>
<a href="#tw">تويتر</a><a href="#wa">واتساب</a><a href="#tg">تلغرام</a></div>"""
RELATED = """<section class="related-posts"><h3>أخبار ذات صلة</h3><ul>
<li><a href="/n/4">تعزيزات جديدة تصل إلى قاعدة في ريف دير الزور الشرقي</a></li>
<li><a href="/n/5">دورية مشتركة تجوب قرى ريف القامشلي الجنوبي وسط استنفار</a></li>
</ul></section>"""
COMMENTS = """<section id="comments" class="comments"><h3>التعليقات (2)</h3>
<div class="comment"><span class="author">زائر</span><p>متى سينتهي هذا الوضع؟ الناس تعبت من
الحرب ومن الوعود التي لا تتحقق، نريد أن نعيش بأمان في قرانا.</p></div>
<div class="comment"><span class="author">أبو محمد</span><p>شكرا على التغطية المستمرة لأحداث
المنطقة الشرقية، نرجو المتابعة.</p></div>
<form class="comment-form"><textarea>أضف تعليقك</textarea><button>إرسال</button></form>
</section>"""
FOOTER = """<footer class="site-footer"><p>جميع الحقوق محفوظة © {site}</p>
<ul><li><a href="/privacy">سياسة الخصوصية</a></li><li><a href="/terms">شروط الاستخدام</a></li>
</ul></footer>"""


def report_text(report_id: str) -> str:
    return (REPORTS_DIR / f"{report_id}.txt").read_text(encoding="utf-8")


def article_page(
    text: str,
    title: str,
    *,
    published: str | None = None,
    meta_date: bool = True,
    jsonld_date: bool = True,
    canonical: str | None = None,
) -> str:
    """A news page holding ``text`` (one paragraph per line) in a site's boilerplate."""
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line)
    head = [f"<title>{html.escape(title)} - {SITE}</title>", '<meta charset="utf-8">']
    head.append(f'<meta property="og:title" content="{html.escape(title)}">')
    if canonical:
        head.append(f'<link rel="canonical" href="{html.escape(canonical)}">')
    if published and meta_date:
        head.append(f'<meta property="article:published_time" content="{published}">')
    if published and jsonld_date:
        ld: dict[str, Any] = {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": SITE},
                {"@type": "NewsArticle", "headline": title, "datePublished": published},
            ],
        }
        head.append(
            f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
        )
    shown_date = html.escape(published[:10]) if published and meta_date else "اليوم"
    return f"""<!doctype html>
<html lang="ar" dir="rtl"><head>{"".join(head)}</head>
<body>{NAV.format(site=SITE)}<div class="container">{SIDEBAR}
<main><article class="post"><h1 class="entry-title">{html.escape(title)}</h1>
<div class="post-meta">بواسطة المحرر | {shown_date}</div>{SHARE}
<div class="entry-content">
{paragraphs}
</div>{SHARE}{RELATED}</article>{COMMENTS}</main></div>{FOOTER.format(site=SITE)}
</body></html>"""


def navigation_page() -> str:
    """A page with menus, headlines and a footer, and no article at all."""
    return f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>أرشيف - {SITE}</title></head><body>{NAV.format(site=SITE)}{SIDEBAR}
{RELATED}{FOOTER.format(site=SITE)}</body></html>"""


# --- the server -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    chunked: bool = False  # stream the body without Content-Length
    drip_s: float = 0.0  # send the body one byte at a time, this long apart


Route = Callable[["WebServer", dict[str, str]], Answer]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (a timeout, a size limit) is expected, not news."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class WebServer:
    """``routes[path] = Answer | fn(server, request_headers) -> Answer``; every request is
    recorded in ``seen``; ``max_in_flight`` is the most requests served at once."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer | Route] = {}
        self.seen: list[Seen] = []
        self.hits: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="web-server")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the request threads
        self._thread.join()

    def answer(self, path: str, headers: dict[str, str]) -> Answer:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
        route = self.routes.get(path)
        if route is None:
            return Answer(404, b"<html><body>not found</body></html>", _HTML)
        return route if isinstance(route, Answer) else route(self, headers)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops (no thread outlives a test)."""
        self._stopping.wait(seconds)

    def bodies_sent(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path and s.status == 200)


_HTML = {"Content-Type": "text/html; charset=utf-8"}


def html_answer(page: str, **headers: str) -> Answer:
    return Answer(200, page.encode("utf-8"), {**_HTML, **headers})


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            server.enter()
            try:
                answer = server.answer(path, headers)
                server.seen.append(Seen(self.path, headers, answer.status))
                if answer.delay_s:
                    server.pause(answer.delay_s)
                self._send(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                server.leave()

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                step = 64 * 1024
                for start in range(0, len(answer.body), step):
                    chunk = answer.body[start : start + step]
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.drip_s:
                for index in range(len(answer.body)):
                    if server._stopping.is_set():
                        break
                    self.wfile.write(answer.body[index : index + 1])
                    self.wfile.flush()
                    server.pause(answer.drip_s)
                return
            self.wfile.write(answer.body)

    return Handler


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
