"""The event dataset: every report, run, record and correction in one SQLite file, and the
events linked across reports (see docs/dataset.md).

Modules: :mod:`.identity` (what makes two reports one), :mod:`.schema` (numbered
migrations), :mod:`.rows` (a record as a row, with the gazetteer's derived facts),
:mod:`.store` (adding results and corrections), :mod:`.current` (the current view),
:mod:`.linking` (events), :mod:`.linkgold` (the linkage gold and its scores), :mod:`.reading`
(summary and export), :mod:`.datasette` (metadata and the Arabic search plugin).
"""
