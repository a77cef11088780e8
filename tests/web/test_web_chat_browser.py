"""The chat in Debian's Chromium, driven by Playwright, against a running `qa serve`."""
from __future__ import annotations

import re
import shutil
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from qa.config import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MDAA = "When did Pakistan sign the Mutual Defense Assistance Agreement?"
MDAA_SENTENCE = "Pakistan signed Mutual Defense Assistance Agreement with the United States in May 1954."
BLINKEN = "Who did Bilawal Bhutto Zardari meet in New York?"


def test_answer_shows_short_answer_citation_and_highlighted_sentence(chat, output_dir):
    reply = chat.ask(MDAA)
    expect(reply.locator(".qa-short")).to_have_text("May 1954")
    expect(reply.locator("a.qa-cite").first).to_have_text("[1]")
    expect(reply.locator("ol.qa-cites li").first).to_contain_text(MDAA_SENTENCE)
    expect(reply.locator("mark").first).to_have_text("May 1954")
    expect(reply.locator(".qa-tier")).to_be_visible()

    highlighted = chat.panel.locator("#cite-1-1")
    expect(highlighted).to_have_class(re.compile(r"\bqa-hl\b"))
    expect(highlighted).to_contain_text(MDAA_SENTENCE)
    expect(highlighted.locator("mark")).to_have_text("May 1954")
    expect(chat.panel.locator(".qa-ctx").first).to_be_visible()          # the passage around it

    shot = output_dir / "chat-answer.png"
    chat.page.screenshot(path=str(shot), full_page=True)
    (PROJECT_ROOT / "eval").mkdir(exist_ok=True)
    shutil.copyfile(shot, PROJECT_ROOT / "eval" / "chat-screenshot.png")


def test_clicking_a_citation_brings_its_sentence_into_view(chat):
    chat.ask(MDAA)
    chat.ask(BLINKEN)
    chat.ask("How much military aid did the USA provide between 1948 and 2016?")
    first_turn = chat.panel.locator("#turn-1")
    expect(first_turn).not_to_have_attribute("open", "")            # older answers are folded
    sentence = chat.panel.locator("#cite-1-1")
    expect(sentence).not_to_be_in_viewport()

    chat.replies.nth(0).locator("a.qa-cite").first.click()
    expect(first_turn).to_have_attribute("open", "")
    expect(sentence).to_be_in_viewport()
    expect(sentence).to_have_class(re.compile(r"\bqa-flash\b"))
    assert chat.page.url.rstrip("/") == chat.url                   # the link did not navigate


def test_follow_up_question_uses_the_conversation(chat):
    chat.ask("Who is Pakistan's newly appointed Foreign Minister?")
    reply = chat.ask("Who did he meet in New York?")
    expect(reply.locator(".qa-understood")).to_contain_text("Foreign Minister")
    expect(reply.locator("ol.qa-cites li").first).to_contain_text("Blinken")
    expect(chat.panel.locator("#cite-2-1")).to_contain_text("Blinken")


def test_unanswerable_question_says_so_and_lists_closest_passages(chat):
    reply = chat.ask("What is the population of Pakistan?")         # on topic, not answered (test_web_api.py)
    expect(reply.locator(".qa-short")).to_have_text("The document does not say.")
    expect(reply.locator("ol.qa-cites li").first).to_be_visible()
    expect(chat.panel.locator(".qa-nosay")).to_contain_text("does not say")
    expect(chat.panel.locator(".qa-closest-passage").first).to_be_visible()
    reply.locator("a.qa-cite").first.click()
    expect(chat.panel.locator("#passage-1-1")).to_be_in_viewport()


XSS = ('<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>'
       '<b id="injected">bold</b> **md** [link](javascript:alert(3)) ${7*7} {{value}}')


def test_xss_payload_in_a_question_is_shown_as_text(chat):
    dialogs = []
    chat.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    reply = chat.ask(XSS)
    expect(chat.user_messages.last).to_have_text(XSS)
    expect(chat.panel.locator("summary").first).to_contain_text(XSS)
    expect(reply).to_be_visible()
    chat.page.wait_for_timeout(500)
    assert dialogs == []
    assert chat.page.evaluate("window.__xss") is None
    for root in ("#qa-chat", "#qa-sources"):
        assert chat.page.locator(f'{root} img[src="x"], {root} script, {root} #injected, '
                                 f'{root} a[href^="javascript"], {root} strong:text("md")').count() == 0


def test_bad_input_shows_a_readable_message(chat):
    reply = chat.ask("   ")
    expect(reply).to_have_class(re.compile(r"\bqa-error\b"))
    expect(reply).to_contain_text("empty")
    reply = chat.ask("why " * 400)
    expect(reply).to_contain_text("too long")
    expect(chat.page.locator("body")).not_to_contain_text("Traceback")


def test_example_question_and_new_chat(chat):
    chat.page.get_by_role("button", name=MDAA).click()
    expect(chat.replies).to_have_count(1)
    expect(chat.replies.first.locator(".qa-short")).to_have_text("May 1954")
    chat.page.locator("#qa-clear").click()
    expect(chat.replies).to_have_count(0)
    expect(chat.panel.locator(".qa-turn")).to_have_count(0)


def test_header_names_the_document_size_and_build_time(chat):
    header = chat.page.locator("#qa-header")
    expect(header).to_contain_text("pak-us-diplomatic-relations.txt")
    expect(header).to_contain_text(re.compile(r"\d+(\.\d)? KB"))
    expect(header).to_contain_text(re.compile(r"\d+ sentences"))
    expect(header).to_contain_text("index built")


@pytest.fixture
def request_hosts(page):
    hosts = []
    page.on("request", lambda request: hosts.append(urlparse(request.url).hostname))
    return hosts


def test_page_makes_no_outside_request(request_hosts, chat):
    expect(chat.ask(MDAA).locator(".qa-short")).to_have_text("May 1954")
    outside = {h for h in request_hosts if h not in ("127.0.0.1", "localhost", None)}
    assert request_hosts and not outside, outside


def colour(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).color")


def test_an_answer_looks_as_sure_as_it_is(chat):
    """Issue 20, item 13: right and wrong answers looked the same, correct ones in red as "low". Now each tier
    the answer model gives (confident or unsure) is worded and coloured as such, and an abstention in grey."""
    reply = chat.ask(MDAA)
    tier = re.search(r"\bqa-tier-(confident|unsure|none)\b", reply.get_attribute("class")).group(1)
    assert tier in ("confident", "unsure")
    line = reply.locator(".qa-tier")
    if tier == "unsure":
        expect(reply.locator(".qa-lead")).to_contain_text("The document may answer this — the closest passage is [1]")
        expect(line).to_contain_text("Unsure")
        assert colour(line) == "rgb(180, 83, 9)"                  # amber, not red
        assert reply.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(217, 119, 6)"
    else:
        expect(line).to_contain_text("The document answers this")
        assert colour(line) == "rgb(21, 128, 61)"                 # green
    expect(reply.locator(".qa-short")).to_have_text("May 1954")
    expect(reply).not_to_contain_text("(low)")
    nothing = chat.ask("Who won the 2018 World Cup?")
    expect(nothing).to_have_class(re.compile(r"\bqa-tier-none\b"))
    expect(nothing.locator(".qa-short")).to_have_text("The document does not say.")
    expect(nothing).to_contain_text("No passage of the indexed documents is close")       # item 15
    expect(nothing.locator("a.qa-cite")).to_have_count(0)
    assert colour(nothing.locator(".qa-short")) == "rgb(71, 85, 105)"


def test_docs_page_renders_offline(page, server, request_hosts):
    """Issue 20, item 16: /docs loaded Swagger UI from a CDN, a blank page offline."""
    page.goto(server.url + "/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("qa: ask a document")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert {h for h in request_hosts if h not in ("127.0.0.1", "localhost", None)} == set()


@pytest.fixture
def phone(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_at_phone_width_the_sources_follow_the_answers(phone, server, open_chat):
    """Issue 20, item 16: at 390 px the sources ended up below the upload panel, far from the answer."""
    chat = open_chat(phone, server.url)
    chat.ask(MDAA)
    ask_box = phone.locator("#qa-question").bounding_box()
    sources = phone.locator("#qa-sources").bounding_box()
    add = phone.locator("#qa-add").bounding_box()
    assert sources["y"] > ask_box["y"] and sources["y"] < add["y"], (ask_box, sources, add)
    assert sources["width"] <= 390
