"""In a real headless Chromium (the fixtures of test_browser.py): a page of another site, on another port of
127.0.0.1, cannot frame the signed-in studio; the API docs render every operation from the studio's own
files, under its Content-Security-Policy, without one request leaving the studio."""

from __future__ import annotations

import http.server
import socket
import threading

from test_browser import browser_context, live, page, sync_api  # noqa: F401 (fixtures)

expect = sync_api.expect


class FramingSite:
    """Another origin (127.0.0.1, another port) whose only page puts the studio in an iframe."""

    def __init__(self, studio_url: str):
        html = f'<!doctype html><title>elsewhere</title><iframe src="{studio_url}/" width="900" height="600"></iframe>'

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = html.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_another_site_cannot_frame_the_signed_in_studio(page, browser_context, live):  # noqa: F811
    site = FramingSite(live.url)
    other = browser_context.new_page()                  # same browser: the studio's session cookie is there
    try:
        with other.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused:
            other.goto(site.url)
        studio_frame = other.frames[1]
        assert refused.value.text.startswith(f"Framing '{live.url}/' violates the following Content Security "
                                             f"Policy directive: \"frame-ancestors 'none'\". The request has been blocked.")
        assert studio_frame.url == "chrome-error://chromewebdata/"     # Chromium's page for a refused frame
        assert studio_frame.locator("#topbar").count() == 0
    finally:
        other.close()
        site.close()


def test_api_docs_render_every_operation_from_the_studios_own_files(browser_context, live):  # noqa: F811
    operations = sum(len(methods) for methods in live.app.openapi()["paths"].values())
    pg = browser_context.new_page()
    requests, errors = [], []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(live.url + "/docs")
        expect(pg.locator(".opblock")).to_have_count(operations)
        expect(pg.locator(".opblock-summary-path", has_text="/api/login").first).to_be_visible()
        expect(pg.get_by_role("heading", name="artforge studio")).to_be_visible()
    finally:
        pg.close()
    assert errors == []
    assert [u for u in requests if not u.startswith(live.url + "/")] == []
