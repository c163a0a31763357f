"""The data contract: pydantic models of one report's extraction. No I/O.

Field descriptions are written for the language model: the JSON schema it sees is
generated from them. The schema is emitted in the form OpenAI's strict structured outputs
require (every property required, optional ones nullable, no additional properties, no
defaults), while Python code and gold files may leave out fields that have defaults.

Fields the model must not decide are computed in code and left out of the schema
(``SkipJsonSchema``): ``report_id``, ``period``, the evidence offsets and ``flags``. A date
is never moved silently: only a date whose ``date_text`` the report wrote without a year takes
the year nearest the report's period (see below); any other date outside the period is kept
as given and flagged (:func:`date_warnings`).

Validation context (``model_validate(data, context={...})``):

- ``source``: the report text; each ``evidence`` must occur in it after normalisation, and
  its character offsets are stored.
- ``report_id``: stored on the :class:`ReportExtraction`.
- ``published``: the publication date of the report (a date, datetime or ISO string), the
  anchor of dates written without a year or relative to the day ("أمس", "يوم الأحد",
  "الجاري"). With ``source`` given, each record's verbatim ``date_text`` is resolved in code
  (:mod:`llm_extract.date_expressions`): a relative expression counts from ``published`` and
  is null without it, never guessed; a day and month without a year take the period's year,
  else the year that puts them on or before ``published``. Without ``source`` (a stored
  result read back) dates are kept as they are.
- ``keep_dates``: true for values an analyst typed (the annotation app): a ``date_text``
  fills a date only where the record has none; a date given is never replaced.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, SkipJsonSchema
from pydantic_core import core_schema

from llm_extract.date_expressions import DateKind, on_or_before, parse_date_expression
from llm_extract.normalize import (
    Period,
    coalition_period,
    find_span,
    nearest_year,
    parse_day_list,
)

# --- strict JSON schema ---------------------------------------------------------------------


class StrictJsonSchema(GenerateJsonSchema):
    """JSON schema accepted by OpenAI strict mode: all properties required, no defaults."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return True

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """``text`` without C0 control characters and DEL, tab, newline and CR kept."""
    return _CONTROLS.sub("", text)


class _Model(BaseModel):
    """Base of every contract model: unknown keys are errors, schema is strict, and no text
    keeps a control character (NUL, ESC...; tab, newline and CR stay): a model answer never
    carries one into a result, a table or a page."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    # After the type is checked (not before): a "before" validator hands the field a Python
    # value, which strict validation of a JSON answer (instructor's) then refuses for dates.
    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if type(value) is str:  # plain text only: an enum value is a str too, and stays
            return strip_controls(value)
        if isinstance(value, list):
            return [strip_controls(v) if type(v) is str else v for v in value]
        return value

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = True,
        ref_template: str = "#/$defs/{model}",
        schema_generator: type[GenerateJsonSchema] = StrictJsonSchema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        # Generating the schema takes milliseconds and every request key needs it: the
        # default (strict) schema is built once per class, and each caller gets a fresh copy.
        default = (by_alias, ref_template, schema_generator, mode) == _DEFAULT_SCHEMA_ARGS
        if default and not kwargs:
            cached: dict[str, Any] = json.loads(_strict_schema_text(cls))
            return cached
        schema = super().model_json_schema(
            by_alias=by_alias,
            ref_template=ref_template,
            schema_generator=schema_generator,
            mode=mode,
            **kwargs,
        )
        if schema_generator is StrictJsonSchema:
            _isolate_refs(schema)
        return schema


_DEFAULT_SCHEMA_ARGS = (True, "#/$defs/{model}", StrictJsonSchema, "validation")


@functools.cache
def _strict_schema_text(cls: type[_Model]) -> str:
    """The strict JSON schema of ``cls`` as JSON text (computed once per class)."""
    schema = BaseModel.model_json_schema.__func__(  # type: ignore[attr-defined]  # classmethod
        cls, ref_template="#/$defs/{model}", schema_generator=StrictJsonSchema
    )
    _isolate_refs(schema)
    return json.dumps(schema, ensure_ascii=False)


def _isolate_refs(node: Any) -> None:
    """Strict mode rejects keywords beside ``$ref``: wrap such refs in a one-branch anyOf."""
    if isinstance(node, dict):
        if "$ref" in node and len(node) > 1:
            node["anyOf"] = [{"$ref": node.pop("$ref")}]
        for value in node.values():
            _isolate_refs(value)
    elif isinstance(node, list):
        for value in node:
            _isolate_refs(value)


# --- closed sets --------------------------------------------------------------------------------


class Actor(StrEnum):
    """Parties named in the reports."""

    INTERNATIONAL_COALITION = "International Coalition"
    US_FORCES = "US forces"
    SDF = "SDF"
    ASAYISH = "Asayish / Autonomous Administration security forces"
    FREE_SYRIAN_ARMY = "Free Syrian Army"
    ISLAMIC_RESISTANCE_IN_IRAQ = "Islamic Resistance in Iraq"
    IRAN_BACKED_MILITIAS = "Iran-backed militias"
    ISIS = "ISIS"
    SYRIAN_GOVERNMENT = "Syrian government"
    CIVILIANS = "civilians"
    OTHER = "other"


class Governorate(StrEnum):
    """Syrian governorates (English names)."""

    DEIR_EZ_ZOR = "Deir ez-Zor"
    HASAKAH = "Hasakah"
    RAQQA = "Raqqa"
    ALEPPO = "Aleppo"
    HOMS = "Homs"
    DAMASCUS = "Damascus"
    RIF_DIMASHQ = "Rif Dimashq"
    IDLIB = "Idlib"
    HAMA = "Hama"
    LATAKIA = "Latakia"
    TARTUS = "Tartus"
    DARAA = "Daraa"
    SUWAYDA = "Suwayda"
    QUNEITRA = "Quneitra"


class ConvoyMode(StrEnum):
    GROUND = "ground"
    AIR = "air"


class StrikeKind(StrEnum):
    ATTACK_ON_BASE = "attack_on_base"
    AIRSTRIKE = "airstrike"
    DRONE_SHOOTDOWN = "drone_shootdown"
    SHELLING = "shelling"
    OTHER = "other"


class CoalitionRole(StrEnum):
    CARRIED_OUT = "carried_out"
    JOINT = "joint"
    SUPPORT = "support"


CATEGORIES: tuple[str, ...] = ("convoys", "drills", "strikes", "arrests")

# --- shared field types ---------------------------------------------------------------------------

Count = Annotated[int, Field(ge=0)]
IsoDate = Annotated[
    dt.date,
    Field(
        description=(
            "Date as YYYY-MM-DD. Reports rarely write the year: use the year of the report's "
            "period (the year is checked in code)."
        )
    ),
]
# Short: every request carries the schema. The prompts say more.
DATE_TEXT_DESCRIPTION = (
    "The date exactly as written, or null. If relative to the day of publication (أمس, "
    "اليوم, a weekday, الجاري) leave date null: code resolves it."
)
EVIDENCE_DESCRIPTION = (
    "The shortest span of the report, copied character for character, that supports every "
    "value of this record. It must occur verbatim in the report."
)


class Grounded(_Model):
    """A record that carries verbatim evidence; offsets are filled in code."""

    evidence: str = Field(min_length=1, description=EVIDENCE_DESCRIPTION)
    evidence_start: SkipJsonSchema[int | None] = Field(default=None, ge=0)
    evidence_end: SkipJsonSchema[int | None] = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ground(self, info: ValidationInfo) -> Grounded:
        source = info.context.get("source") if isinstance(info.context, dict) else None
        if source is None:
            return self
        span = find_span(source, self.evidence)
        if span is None:
            raise ValueError(
                f"evidence {self.evidence!r} does not occur in the report; quote a short span "
                "of the report exactly as written"
            )
        self.evidence_start, self.evidence_end = span
        date_text: str | None = getattr(self, "date_text", None)
        if date_text is not None and not date_text.strip():
            object.__setattr__(self, "date_text", None)  # "" from a model means no date
        elif date_text is not None and find_span(source, date_text) is None:
            raise ValueError(
                f"date_text {date_text!r} does not occur in the report; copy the date exactly "
                "as written, or null"
            )
        return self


# --- records --------------------------------------------------------------------------------------


class Convoy(Grounded):
    """Reinforcements brought in by the coalition: ground convoys (trucks, vehicles) or airlifts."""

    category: ClassVar[str] = "convoys"

    mode: ConvoyMode = Field(
        description="ground for trucks and vehicles, air for cargo planes and helicopters"
    )
    vehicles: Count | None = Field(
        default=None,
        description="Number of trucks/vehicles (ground) or aircraft (air) as written; null if "
        "the report gives no number",
    )
    approximate: bool = Field(
        default=False, description='True when the number is hedged: "نحو", "قرابة", "حوالي"'
    )
    at_least: bool = Field(
        default=False, description='True when the number is a floor: "أكثر من", "على الأقل"'
    )
    batches: Count | None = Field(
        default=None,
        description="Number of batches/convoys as the report states it (keep it even if the "
        "list of dates has a different length); null if not stated",
    )
    date_text: str | None = Field(
        default=None,
        description="The dates exactly as written, or null. If relative to the day of "
        "publication (أمس, اليوم, a weekday) leave dates empty: code resolves it.",
    )
    dates: list[IsoDate] = Field(
        default_factory=list,
        description="Every date listed for the batches, in order. In lists such as "
        '"26 و27 كانون الثاني، و5 من شباط" each day takes the month name that follows it.',
    )
    origin: str | None = Field(
        default=None, description="Where it came from, as written in Arabic (e.g. a border region)"
    )
    destinations: list[str] = Field(
        default_factory=list, description="Destinations as written in Arabic (bases, governorates)"
    )
    cargo: list[str] = Field(
        default_factory=list, description="What was carried, as written in Arabic"
    )


class Drill(Grounded):
    """A military exercise of the coalition, usually with the SDF."""

    category: ClassVar[str] = "drills"

    date_text: str | None = Field(default=None, description=DATE_TEXT_DESCRIPTION)
    date: IsoDate | None = Field(default=None)
    location: str | None = Field(
        default=None, description="Base, field or town as written in Arabic"
    )
    governorate: Governorate | None = Field(default=None)
    participants: list[Actor] = Field(default_factory=list, description="Forces taking part")
    live_fire: bool | None = Field(
        default=None,
        description='True when the report says live ammunition ("الذخيرة الحية") or live '
        "firing; null when it does not say",
    )
    weapons: list[str] = Field(
        default_factory=list, description="Weapons or means named, as written in Arabic"
    )
    scenario: str | None = Field(
        default=None, description="What the drill simulated, as written in Arabic"
    )
    count: Count = Field(
        default=1,
        description="How many drills this record stands for: 1 for a dated drill, N for a "
        'statement such as "10 تدريبات" given without details',
    )


class Target(_Model):
    name: str = Field(description="Targeted base or site as written in Arabic")
    count: Count | None = Field(default=None, description="Attacks on this target, if stated")


class Casualty(_Model):
    party: Actor = Field(description="Whose dead and wounded these are")
    killed: Count | None = Field(default=None, description="Number killed; null if not a number")
    injured: Count | None = Field(
        default=None, description='Number injured; null if not a number (e.g. "عشرات")'
    )
    approximate: bool = Field(default=False, description='True for "نحو", "قرابة"')
    at_least: bool = Field(default=False, description='True for "على الأقل", "أكثر من"')
    note: str | None = Field(
        default=None, description='Casualties given without a number, e.g. "عشرات الجرحى"'
    )


class Strike(Grounded):
    """Attacks on coalition bases, coalition airstrikes, drones shot down, shelling."""

    category: ClassVar[str] = "strikes"

    date_text: str | None = Field(default=None, description=DATE_TEXT_DESCRIPTION)
    date: IsoDate | None = Field(default=None)
    kind: StrikeKind = Field(
        description="attack_on_base: attack on a coalition base; airstrike: air raids; "
        "drone_shootdown: a drone shot down; shelling: artillery/rockets not on a base"
    )
    attacker: Actor | None = Field(default=None, description="Who attacked or struck")
    targets: list[Target] = Field(
        default_factory=list, description="Targets, with per-target counts when broken down"
    )
    location: str | None = Field(default=None, description="Place as written in Arabic")
    governorate: Governorate | None = Field(default=None)
    count: Count | None = Field(
        default=None, description="How many attacks/strikes/rounds this record stands for"
    )
    casualties: list[Casualty] = Field(default_factory=list, description="Casualties by party")


class Arrest(Grounded):
    """Raids, air landings, security operations and arrest campaigns."""

    category: ClassVar[str] = "arrests"

    date_text: str | None = Field(default=None, description=DATE_TEXT_DESCRIPTION)
    date: IsoDate | None = Field(default=None)
    location: str | None = Field(default=None, description="Village, town or area in Arabic")
    governorate: Governorate | None = Field(default=None)
    actors: list[Actor] = Field(default_factory=list, description="Forces that carried it out")
    coalition_role: CoalitionRole | None = Field(
        default=None,
        description="carried_out: coalition forces did it; joint: a joint operation; "
        "support: intelligence, air or logistic support only",
    )
    operations: Count | None = Field(
        default=None, description="How many operations this record stands for, if stated"
    )
    detained: Count | None = Field(default=None, description="People arrested; null if no number")
    killed: Count | None = Field(default=None, description="People killed in the operation")
    affiliation: Actor | None = Field(
        default=None, description="Who the detainees were accused of belonging to or helping"
    )
    notes: str | None = Field(
        default=None, description="Details without a field: roles, numbers given in words"
    )


RECORD_TYPES: dict[str, type[Grounded]] = {
    "convoys": Convoy,
    "drills": Drill,
    "strikes": Strike,
    "arrests": Arrest,
}


class StatedTotals(_Model):
    """Totals the report states outright (not computed from the records)."""

    drills: Count | None = Field(default=None, description='e.g. "10 تدريبات"')
    attacks: Count | None = Field(default=None, description="Attacks on coalition bases")
    airstrikes: Count | None = Field(default=None, description="Rounds of coalition airstrikes")
    operations: Count | None = Field(default=None, description="Joint security operations")


class PeriodModel(_Model):
    start: dt.date
    end: dt.date


class ReportExtraction(_Model):
    """Everything one report states about the coalition, one record per statement."""

    report_id: SkipJsonSchema[str | None] = None
    coalition_month: Count | None = Field(
        default=None,
        description='The ordinal of the coalition month, e.g. 118 for "للشهر 118 على التوالي"; '
        "null for items that are not monthly reports",
    )
    period: SkipJsonSchema[PeriodModel | None] = None
    stated_totals: StatedTotals = Field(default_factory=StatedTotals)
    convoys: list[Convoy] = Field(default_factory=list)
    drills: list[Drill] = Field(default_factory=list)
    strikes: list[Strike] = Field(default_factory=list)
    arrests: list[Arrest] = Field(default_factory=list)
    flags: SkipJsonSchema[list[str]] = Field(default_factory=list)

    @field_validator("coalition_month")
    @classmethod
    def _month_range(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 600:
            raise ValueError("coalition_month must be between 1 and 600")
        return value

    @model_validator(mode="after")
    def _derive(self, info: ValidationInfo) -> ReportExtraction:
        context = info.context if isinstance(info.context, dict) else {}
        if context.get("report_id"):
            self.report_id = str(context["report_id"])
        if self.coalition_month is not None:
            period = coalition_period(self.coalition_month)
            self.period = PeriodModel(start=period.start, end=period.end)
        if context.get("source") is not None:
            published = publication_date(context.get("published"))
            keep = bool(context.get("keep_dates"))
            resolve_date_texts(self, self.period_value(), published, keep_dates=keep)
        self.flags = consistency_flags(self) + period_flags(self)
        return self

    def period_value(self) -> Period | None:
        return None if self.period is None else Period(self.period.start, self.period.end)

    def records(self, category: str) -> list[Grounded]:
        """The records of one category (``convoys``, ``drills``, ``strikes``, ``arrests``)."""
        if category not in RECORD_TYPES:
            raise KeyError(category)
        records: list[Grounded] = getattr(self, category)
        return records


#: How far outside its period a report's date may lie unflagged: reports list days from
#: just before their period (month 118 lists 14 June), never a month or more away. A wrong
#: year always lies further.
DATE_MARGIN_DAYS = 31


def date_warnings(record: Grounded, period: Period) -> list[tuple[str, str]]:
    """``(field, message)`` for each date of ``record`` outside ``period`` (by more than
    :data:`DATE_MARGIN_DAYS`), kept as given.

    ``field`` is the record's field (``date``, or ``dates.<i>`` for a convoy). Nothing is
    moved: a wrong year is shown to the analyst, who decides.
    """
    if isinstance(record, Convoy):
        days = [(f"dates.{i}", day) for i, day in enumerate(record.dates)]
    else:
        day = getattr(record, "date", None)
        days = [("date", day)] if isinstance(day, dt.date) else []
    margin = dt.timedelta(days=DATE_MARGIN_DAYS)
    return [
        (path, f"{day.isoformat()} is outside the report's period {period.start} – {period.end}")
        for path, day in days
        if not period.start - margin <= day <= period.end + margin
    ]


def period_flags(extraction: ReportExtraction) -> list[str]:
    """One flag per date outside the report's period (:func:`date_warnings`)."""
    period = extraction.period_value()
    if period is None:
        return []
    flags: list[str] = []
    for category in CATEGORIES:
        for i, record in enumerate(extraction.records(category)):
            for path, message in date_warnings(record, period):
                flags.append(f"{category}[{i}].{path}: {message}")
    return flags


def publication_date(value: object) -> dt.date | None:
    """The calendar day of a ``published`` context value (date, datetime or ISO string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            return None
    return None


def resolve_date_texts(
    extraction: ReportExtraction,
    period: Period | None,
    published: dt.date | None,
    *,
    keep_dates: bool = False,
) -> None:
    """Dates from each record's verbatim ``date_text`` (in place), code over the model.

    A relative expression takes the day it names from ``published``, or null without it. A
    day and month written without a year take the year nearest ``period``, else the one on
    or before ``published``; with neither, the model's date stays. This is the only place a
    year is chosen in code, and only where the report wrote none: a date with a year, or
    with no ``date_text`` the parser reads, stays as the model gave it (and is flagged when
    outside the period, :func:`period_flags`). With ``keep_dates`` (values an analyst
    typed) a date is filled only where the record has none.
    """
    dated: list[Drill | Strike | Arrest] = [
        *extraction.drills,
        *extraction.strikes,
        *extraction.arrests,
    ]
    for record in dated:
        if record.date_text is None or (keep_dates and record.date is not None):
            continue
        expression = parse_date_expression(record.date_text)
        if expression is None:
            continue
        resolved = expression.resolve(published, period)
        if resolved is not None or expression.kind is DateKind.RELATIVE:
            record.date = resolved
    for convoy in extraction.convoys:
        if convoy.date_text is None or (keep_dates and convoy.dates):
            continue
        expression = parse_date_expression(convoy.date_text)
        if expression is None:
            continue
        if expression.kind is DateKind.RELATIVE:
            resolved = expression.resolve(published, period)
            convoy.dates = [resolved] if resolved is not None else []
        elif period is not None and expression.kind is DateKind.YEARLESS:
            convoy.dates = [nearest_year(day, period) for day in convoy.dates]
        elif period is None and published is not None and expression.kind is DateKind.YEARLESS:
            days = parse_day_list(convoy.date_text)
            dates: list[dt.date] = []
            for month, day in days:
                try:
                    dates.append(on_or_before(month, day, published))
                except ValueError:
                    continue
            if dates:
                convoy.dates = dates


def consistency_flags(extraction: ReportExtraction) -> list[str]:
    """Counts that disagree inside the report, kept as written and flagged here."""
    flags: list[str] = []
    for i, convoy in enumerate(extraction.convoys):
        if convoy.batches is not None and convoy.dates and convoy.batches != len(convoy.dates):
            flags.append(
                f"convoys[{i}]: {convoy.batches} batches stated "
                f"but {len(convoy.dates)} dates listed"
            )
    for i, strike in enumerate(extraction.strikes):
        counts = [t.count for t in strike.targets]
        if strike.count is not None and counts and all(c is not None for c in counts):
            total = sum(c for c in counts if c is not None)
            if total != strike.count:
                flags.append(
                    f"strikes[{i}]: count {strike.count} but per-target counts add up to {total}"
                )
    stated = extraction.stated_totals.drills
    listed = sum(d.count for d in extraction.drills)
    if stated is not None and extraction.drills and stated != listed:
        flags.append(f"drills: {stated} stated but {listed} recorded")
    return flags
