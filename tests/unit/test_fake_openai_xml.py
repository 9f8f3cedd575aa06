"""The loopback model server answers a request for XML in the tags the prompt names, so an
XMLParserBlock fed by an LLM block parses it (our own prompts, in the shapes agents write)."""

from __future__ import annotations

import httpx
import pytest

from localcloud.fake_openai import FakeOpenAI
from stratus.blocks.core.xml import parse_xml


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as fake:
        yield fake


def _answer(server: FakeOpenAI, prompt: str, system: str = "") -> str:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    reply = httpx.post(f"{server.url}/chat/completions", json={"model": "gpt-4o", "messages": messages}, timeout=10)
    reply.raise_for_status()
    return reply.json()["choices"][0]["message"]["content"]


def test_a_format_block_after_a_colon_names_the_answer_tags_and_data_tags_are_left_out(server):
    prompt = (
        "Here is the article:\n<article>\nMarkets rallied today.\n</article>\n\n"
        "Write a digest of it in the following format:\n\n"
        "<headline>\nA short headline\n</headline>\n\n<digest>\nThe digest\n</digest>\n\nBe brief."
    )
    answer = _answer(server, prompt)
    assert answer == "<headline>A short headline</headline>\n<digest>The digest</digest>"


def test_an_example_with_child_elements_comes_back_whole_and_parses_to_its_items(server):
    prompt = (
        "Pick the cities worth a visit. Output the results in XML format as follows:\n\n"
        "<cities>\n  <city>Paris</city>\n  <city>Rome</city>\n</cities>\n\n"
        "Here is the travel log:\n<log>\nWe saw Paris, Rome and Oslo.\n</log>"
    )
    answer = _answer(server, prompt)
    assert parse_xml(answer) == {"cities": [{"city": "Paris"}, {"city": "Rome"}]}


def test_tags_named_in_a_sentence_are_answered_with_the_example_text_or_a_filler(server):
    prompt = (
        "Rank the names below. Present the ranking inside <ranking> XML tags, with no commentary.\n"
        "Format:\n<ranking>alpha.com,beta.com</ranking>\n\nThe names:\n<names>\nalpha.com beta.com\n</names>"
    )
    assert parse_xml(_answer(server, prompt)) == {"ranking": "alpha.com,beta.com"}
    answer = _answer(server, "Summarise the plan. Provide your summary within <summary> tags.")
    assert parse_xml(answer) == {"summary": "summary for Summarise the plan. Provide your summary"}


def test_elements_right_after_a_line_asking_for_them_are_the_answer_format(server):
    prompt = (
        "Find the owner of the shop below.\n<shop>\nThe Corner Shop\n</shop>\n\n"
        "When you know, provide the details in this form in your final message.\n"
        "<owner>\nName: [the owner's name]\n</owner>\n\nNever guess."
    )
    assert parse_xml(_answer(server, prompt)) == {"owner": "Name: [the owner's name]"}


def test_numbered_format_items_each_give_an_element(server):
    prompt = (
        "Pick a colour for the brand.\n\nOUTPUT FORMAT (strict):\nReturn exactly two XML blocks:\n"
        "1) <colour>…</colour> — the colour you picked.\n2) <why>…</why> — one sentence.\n\nRules:\n- Be brief."
    )
    assert _answer(server, prompt) == "<colour>…</colour>\n<why>…</why>"


def test_a_prompt_without_an_xml_request_is_still_echoed(server):
    assert _answer(server, "Tell me about <b>bold</b> text.") == "Echo: Tell me about <b>bold</b> text."
