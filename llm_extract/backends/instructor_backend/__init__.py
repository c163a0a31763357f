"""Providers beyond the OpenAI protocol (Anthropic, Google), through instructor's public API:
:class:`~llm_extract.backends.instructor_backend.backend.InstructorBackend`. The SDKs are
optional extras (``pip install 'llm-extract[anthropic]'``, ``'llm-extract[google]'``) and are
imported only when a backend is built."""
