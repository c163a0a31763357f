"""The chat-completions protocol under the OpenAI-compatible backend: the HTTP client with
its one retry loop (:mod:`.client`), what a server's refusal says (:mod:`.rejection`) and the
single-flight choice of a mode for ``auto`` (:mod:`.auto`). No validation here."""
