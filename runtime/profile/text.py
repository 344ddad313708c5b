"""Built-in English text for profiling when the user gives none."""

SAMPLE = (
    "The smart glasses showed the way to the station while the rain started again. "
    "A small model on the phone read the timetable, translated the signs and summarised the news. "
    "Battery life matters more than anything else on a device that sits on your face all day, "
    "so every operation the model saves is time the wearer gets back. The team measured latency, "
    "power and accuracy on a Raspberry Pi before shipping the update to the glasses. "
)


def prompt_ids(tokenizer, n: int, text: str | None = None) -> list[int]:
    """Exactly ``n`` tokens of real text (repeated if it is short)."""
    ids = tokenizer.encode(text or SAMPLE).ids or [0]
    while len(ids) < n:
        ids = ids + ids
    return ids[:n]
