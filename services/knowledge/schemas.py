"""Request and response bodies of the knowledge service; the import file uses them too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.directory.schemas import Code, Topic
from services.knowledge.script_graph import script_problems

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)]
Spoken = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Municipality = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
CallerGroup = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
FaqStatus = Literal["draft", "review", "published", "archived"]


class NoticeWarning(BaseModel):
    """An open outdated-information notice about the entry, shown to operators."""

    notice_id: int
    status: str
    comment: str
    created_at: dt.datetime


class CatalogueIn(BaseModel):
    """A catalogue entry as an editor writes it (R9)."""

    code: Code
    name: Short
    topic: Topic
    description: Long
    applicants: Long = Field(description="Who may apply")
    terms: Long = Field(description="How long it takes")
    documents: list[Long] = Field(default_factory=list, max_length=60)
    fee: Long
    result: Long
    responsible_agency: Long
    responsible_agency_code: Code | None = Field(
        default=None, description="Directory code of the office that answers notices about it"
    )
    officials: OptionalText = ""
    appeal: Long = Field(description="How to appeal a decision")
    sample_data: bool = False


class CatalogueSave(CatalogueIn):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field(
        default="", description="Why it changed, kept with the version"
    )


class AgencyRef(BaseModel):
    code: str
    name: str
    address: str


class ProvidedIn(BaseModel):
    """Offices of one municipality that provide the service (from the directory)."""

    municipality: str
    agencies: list[AgencyRef]


class CatalogueOut(CatalogueIn):
    model_config = ConfigDict(from_attributes=True)

    version: int
    updated_by: str
    updated_at: dt.datetime
    provided_in: list[ProvidedIn] = Field(default_factory=list)
    warnings: list[NoticeWarning] = Field(default_factory=list)


class CatalogueSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    topic: str
    version: int
    sample_data: bool


class CatalogueVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    changed_fields: list[str]
    changed_by: str
    changed_at: dt.datetime
    note: str
    content: dict[str, Any]


class FaqIn(BaseModel):
    """A question and answer as an editor writes it; `spoken` is what the voice menu reads."""

    topic: Topic
    service_code: Code | None = None
    municipality: Municipality | None = Field(default=None, description="None: the whole region")
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]
    answer: Long
    spoken: Spoken
    sample_data: bool = False


class FaqImport(FaqIn):
    status: FaqStatus = "draft"


class FaqOut(FaqIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: FaqStatus
    version: int
    updated_by: str
    updated_at: dt.datetime
    published_at: dt.datetime | None
    warnings: list[NoticeWarning] = Field(default_factory=list)


class PublicFaqOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    service_code: str | None
    municipality: str | None
    question: str
    answer: str
    spoken: str


class FaqHitOut(PublicFaqOut):
    """A search result: snippets mark the matched words with <b>…</b>."""

    status: str
    rank: float
    matched_terms: int
    question_snippet: str
    answer_snippet: str


class StaffFaqHitOut(FaqHitOut):
    warnings: list[NoticeWarning] = Field(default_factory=list)


class SpokenAnswer(BaseModel):
    """What the voice menu reads out for one answer."""

    id: int
    question: str
    spoken: str


class FaqTransition(BaseModel):
    action: Literal["submit", "publish", "return", "withdraw", "archive", "restore"]


class UsageIn(BaseModel):
    caller_group: CallerGroup = "general"


class UsageOut(BaseModel):
    faq_id: int
    question: str
    topic: str
    caller_group: str
    count: int


class SynonymGroupIn(BaseModel):
    """Words or phrases searched as one: synonyms, word families, common misspellings."""

    terms: list[Term] = Field(min_length=2, max_length=20)


class SynonymGroupOut(SynonymGroupIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    keys: list[str]


class ScriptOption(BaseModel):
    label: Short
    next: Code


class ScriptStep(BaseModel):
    """One step the workspace shows: what to say, and where the answer leads."""

    id: Code
    kind: Literal["greeting", "identify", "question", "answer", "offer", "satisfaction", "closing"]
    text: Long
    hint: OptionalText = ""
    options: list[ScriptOption] = Field(default_factory=list, max_length=20)
    next: Code | None = None
    offer: Literal["booking", "transfer", "complaint", "callback"] | None = None
    faq_ids: list[int] = Field(default_factory=list, max_length=20)


class ScriptIn(BaseModel):
    code: Code
    topic: Topic
    title: Short
    start: Code
    steps: list[ScriptStep] = Field(min_length=2, max_length=200)
    sample_data: bool = False

    @model_validator(mode="after")
    def _well_formed(self) -> ScriptIn:
        problems = script_problems(
            self.start,
            [
                (s.id, s.kind, s.next, [o.next for o in s.options], s.offer is not None)
                for s in self.steps
            ],
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ScriptOut(ScriptIn):
    model_config = ConfigDict(from_attributes=True)

    version: int
    updated_by: str
    updated_at: dt.datetime


class ScriptSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    topic: str
    title: str
    version: int


class NoticeIn(BaseModel):
    """A flag that an entry is wrong or outdated; `subject_key` is the service code, the FAQ id
    or the office code. The agency is found from the entry unless given."""

    subject_type: Literal["catalogue", "faq", "agency"]
    subject_key: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000)]
    agency_code: Code | None = None


class NoticeAction(BaseModel):
    action: Literal["take", "resolve", "dismiss", "reopen"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class NoticeOut(BaseModel):
    id: int
    subject_type: str
    subject_key: str
    agency_code: str
    agency_name: str
    comment: str
    status: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    resolution: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None
    forwarded_at: dt.datetime | None


class KnowledgeFile(BaseModel):
    """The JSON/YAML import and export format."""

    sample_data: bool = False
    note: str | None = None
    catalogue: list[CatalogueIn] = Field(default_factory=list, max_length=5000)
    faq: list[FaqImport] = Field(default_factory=list, max_length=50000)
    scripts: list[ScriptIn] = Field(default_factory=list, max_length=500)
    synonyms: list[list[Term]] = Field(default_factory=list, max_length=5000)


class ImportReport(BaseModel):
    catalogue_created: int = 0
    catalogue_updated: int = 0
    catalogue_unchanged: int = 0
    faq_created: int = 0
    faq_skipped: int = Field(default=0, description="Same topic and question already present")
    scripts_saved: int = 0
    synonym_groups: int = 0
