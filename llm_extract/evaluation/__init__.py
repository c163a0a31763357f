"""The evaluation harness: gold loading, matching, metrics, comparison and reports.

Each piece lives in its own module (``gold``, ``matching``, ``metrics``, ``compare``,
``runs``, ``runner``, ``html_report``); import them directly. This package file imports
nothing so that loading one module never drags in the others.
"""
