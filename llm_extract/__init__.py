"""llm-extract: LLM-assisted, source-grounded extraction from reports on the coalition in Syria."""

__version__ = "0.1.0"
