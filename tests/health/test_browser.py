"""The dashboard in a real headless Chromium (Debian ``chromium``, driven by Playwright; never a
downloaded browser): log in, watch counters rise, see a channel turn failing, replay a dead letter."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.health.test_admin import PATH, make_dead_letter
from tests.support.core import wait_for_records
from tests.twoway.support import seed_dead_outbound

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
AUTH = {"Authorization": "Bearer test-http-token"}

pytestmark = pytest.mark.timeout(180)


def complaint(native_id: str) -> dict:
    return {"id": native_id, "text": "Jembatan desa ambruk, warga tidak bisa lewat.", "reporter": {"phone": "0811"}}


async def test_dashboard_in_chromium(gateway, rsync):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium; `make test` installs it)")
    playwright_api = pytest.importorskip("playwright.async_api", reason="pip package playwright not installed")

    # a dead letter to replay later: a worker whose preprocessing fails on everything
    await make_dead_letter(gateway, rsync, "dead-1")
    await gateway.start_worker(preprocessors=[])
    await seed_dead_outbound(gateway.runner.app, "o-dead-1", "01JBROWSERRECORD00000000000")  # a failed core message
    ARTIFACTS.mkdir(exist_ok=True)

    expect = playwright_api.expect
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            resp = await page.goto(gateway.url + "/admin/")
            assert resp is not None and resp.status == 401  # refused until logged in
            await page.fill("#token", "test-admin-token-0123456789")
            await page.click("#login")
            try:
                await page.wait_for_selector("#card-api", timeout=15_000)
            except playwright_api.Error:
                await page.screenshot(path=str(ARTIFACTS / "health-dashboard-failed.png"))
                raise AssertionError(f"dashboard did not render; page errors: {errors}; url {page.url}") from None
            received = page.locator("#card-api .count-received")
            before = int(await received.text_content() or "-1")
            assert before == 1  # the message that became a dead letter
            assert await page.locator("#card-api .spark polyline").count() == 1

            # counters rise as messages are posted
            for i in range(3):
                assert (await gateway.post(PATH, json=complaint(f"ok-{i}"), headers=AUTH))[0] == 202
            await expect(received).to_have_text("4", timeout=20_000)  # (no string eval: the page's CSP forbids it)

            # the provider's secret is wrong: the card turns failing, with the reason
            for i in range(4):
                status, _b, _h = await gateway.post(PATH, json=complaint(f"bad-{i}"),
                                                    headers={"Authorization": "Bearer old-secret"})
                assert status == 403
            await page.wait_for_selector('#card-api[data-state="failing"]', timeout=20_000)
            reason = await page.locator("#card-api .reason").first.text_content()
            assert reason is not None and "perlu kredensial baru" in reason
            assert (await page.locator("#overall").get_attribute("data-state")) == "failing"

            # replay the dead letter with its button
            button = page.locator("#dead button.replay")
            await button.wait_for(timeout=10_000)
            row_error = await page.locator("#dead tbody tr td").nth(2).text_content()
            assert row_error is not None and "normalizer exploded" in row_error
            await button.click()
            await expect(page.locator("#replay-result")).to_contain_text("1 diputar ulang", timeout=10_000)
            assert rsync.xlen("lapor:dead") == 0
            records = await asyncio.to_thread(wait_for_records, rsync, 4)
            assert "api:dead-1" in {r["idempotency_key"] for r in records}

            # messages to citizens: counts per channel, queue depth, and the failed one replayed as a new attempt
            await expect(page.locator('#outbound tr[data-out-channel="sms"] .out-failed')).to_have_text("1")
            assert await page.locator("#out-outbound_backlog dd").count() == 1
            out_button = page.locator("#outbound-dead button.out-replay")
            await out_button.wait_for(timeout=10_000)
            assert await page.locator("#outbound-dead tbody tr td").nth(1).text_content() == "o-dead-1"
            await out_button.click()
            await expect(page.locator("#outbound-replay-result")).to_contain_text("o-dead-1-replay1", timeout=10_000)
            assert rsync.hget("lapor:out:o-dead-1-replay1", "status") == b"queued"
            assert rsync.hget("lapor:out:o-dead-1", "status") == b"failed"

            # English on request
            await page.click("#lang")
            await page.wait_for_selector('#card-api .badge:text("failing")')
            await page.screenshot(path=str(ARTIFACTS / "health-dashboard-phone.png"), full_page=True)
            await page.set_viewport_size({"width": 1280, "height": 900})
            await page.screenshot(path=str(ARTIFACTS / "health-dashboard.png"), full_page=True)
            assert (ARTIFACTS / "health-dashboard.png").stat().st_size > 10_000
        finally:
            await browser.close()
