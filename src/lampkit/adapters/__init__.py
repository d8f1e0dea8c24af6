"""Adapters on the Hub: model cards (:mod:`.cards`), push and pull (:mod:`.hub`), checks against a base model
(:mod:`.checks`). Light to import: ``huggingface_hub`` loads inside the functions."""
