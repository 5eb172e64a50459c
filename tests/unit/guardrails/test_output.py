def test_contact_details_quoted_from_a_permitted_source_are_not_a_leak() -> None:
    from keel.guardrails.output import OutputCheck
    from keel.knowledge.ports import Passage

    faq = Passage("customer-support", "c#0", "Support", "Write to support@acme.example or call +1 415 555 0100.", 1.0)
    answer = "Write to support@acme.example or call +1 415 555 0100. [customer-support]"
    assert OutputCheck().pii_leaks(answer, "How do I reach support?", None, [faq]) == []
    assert OutputCheck().pii_leaks(answer, "How do I reach support?", None, []) != []
