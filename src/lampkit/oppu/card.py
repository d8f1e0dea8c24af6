"""The card of one per-user adapter, from the packaged ``user_adapter`` template (linked from the checkout's
``adapters_card_templates/``): the salted user hash, the training record, never a raw user id or profile text."""

from __future__ import annotations

from ..adapters.cards import from_template


def render_user_card(name: str, record: dict, *, repo_id: str | None = None, template: str = "user_adapter") -> str:
    """The README.md of user hash ``name``'s adapter folder."""
    from huggingface_hub import ModelCardData

    data = ModelCardData(library_name="peft", base_model=record.get("base_model_id"),
                         tags=["lampkit", "oppu", "personalization", record["task"]])
    card = from_template(data, template, user=name, repo_id=repo_id,
                         **{k: v for k, v in record.items() if k not in ("user",)})
    return str(card)
