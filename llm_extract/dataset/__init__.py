"""The event dataset: every report, run, record and correction in one SQLite file, and the
events linked across reports (see docs/dataset.md).

Modules: :mod:`.identity` (what makes two reports one), :mod:`.schema` (numbered
migrations, transactions), :mod:`.rows` (a record as a row, with the gazetteer's derived
facts), :mod:`.store` (adding results and corrections; the current view), :mod:`.linking`
(the blocking, scoring and clustering rule), :mod:`.events` (the events table),
:mod:`.linkgold` (the linkage gold and its scores), :mod:`.reading` (summary, export,
unknown places), :mod:`.browse` (Datasette: metadata and Arabic search).
"""
