"""Model backends behind one interface (:class:`~llm_extract.backends.base.Backend`)."""

from __future__ import annotations

from llm_extract.backends.base import Backend, ModelSettings

RULES_MODEL = "rules"


def get_backend(settings: ModelSettings) -> Backend:
    """The backend for ``settings.model``: ``rules`` is the offline extractor, anything else
    goes to an OpenAI-compatible server."""
    if settings.model == RULES_MODEL:
        from llm_extract.backends.rules import RulesBackend

        return RulesBackend()
    from llm_extract.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings)
