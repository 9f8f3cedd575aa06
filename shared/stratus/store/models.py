"""AutoGPT's store shapes (backend/server/v2/store/model.py), with validation on input."""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from stratus.store.text import slugify

MAX_CATEGORIES = 10
MAX_IMAGES = 10


class SubmissionStatus(str, Enum):
    DRAFT = "DRAFT"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def _http_url(value: str) -> str:
    # Only http(s): these URLs end up in <img src> and <a href> of the store pages.
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value


HttpUrlText = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")


def _cron(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError("must be a cron expression with 5 fields (minute hour day month weekday)")
    return " ".join(fields)


Cron = Annotated[str | None, Field(default=None, max_length=200), AfterValidator(_cron)]
Category = Annotated[str, Field(min_length=1, max_length=50)]


class Pagination(BaseModel):
    total_items: int
    total_pages: int
    current_page: int
    page_size: int


class _Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


# --- profiles -------------------------------------------------------------------------------
class Profile(_Input):
    name: str = Field(min_length=1, max_length=100)
    username: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=2000)
    links: list[HttpUrlText] = Field(default_factory=list, max_length=10)
    avatar_url: HttpUrlText | None = None
    is_featured: bool = False  # accepted for AutoGPT clients; only admins feature creators

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        cleaned = slugify(value)
        if not cleaned:
            raise ValueError("must contain letters, digits or hyphens")
        return cleaned


class ProfileDetails(BaseModel):
    name: str
    username: str
    description: str
    links: list[str]
    avatar_url: str | None = None


# --- submissions ------------------------------------------------------------------------------
class _ListingText(_Input):
    name: str = Field(min_length=1, max_length=200)
    sub_heading: str = Field(default="", max_length=500)
    video_url: HttpUrlText | None = None
    agent_output_demo_url: HttpUrlText | None = None
    image_urls: list[HttpUrlText] = Field(default_factory=list, max_length=MAX_IMAGES)
    description: str = Field(default="", max_length=20_000)
    instructions: str | None = Field(default=None, max_length=20_000)
    categories: list[Category] = Field(default_factory=list, max_length=MAX_CATEGORIES)
    changes_summary: str | None = Field(default=None, max_length=2000)
    recommended_schedule_cron: Cron = None


class StoreSubmissionRequest(_ListingText):
    agent_id: str = Field(min_length=1, max_length=100)
    agent_version: int = Field(gt=0)
    slug: str = Field(min_length=1, max_length=100)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        cleaned = slugify(value)
        if not cleaned:
            raise ValueError("must contain letters, digits or hyphens")
        return cleaned


class StoreSubmissionEditRequest(_ListingText):
    pass


class StoreSubmission(BaseModel):
    listing_id: str
    agent_id: str
    agent_version: int
    name: str
    sub_heading: str
    slug: str
    description: str
    instructions: str | None = None
    image_urls: list[str]
    date_submitted: str
    status: SubmissionStatus
    runs: int
    rating: float
    store_listing_version_id: str | None = None
    version: int | None = None
    reviewer_id: str | None = None
    review_comments: str | None = None
    internal_comments: str | None = None  # admins only; always None for the creator
    reviewed_at: str | None = None
    changes_summary: str | None = None
    video_url: str | None = None
    agent_output_demo_url: str | None = None
    categories: list[str] = []
    recommended_schedule_cron: str | None = None


class StoreSubmissionsResponse(BaseModel):
    submissions: list[StoreSubmission]
    pagination: Pagination


class MyAgent(BaseModel):
    agent_id: str
    agent_version: int
    agent_name: str
    agent_image: str | None = None
    description: str
    last_edited: str
    recommended_schedule_cron: str | None = None


class MyAgentsResponse(BaseModel):
    agents: list[MyAgent]
    pagination: Pagination


# --- admin ----------------------------------------------------------------------------------
class ReviewSubmissionRequest(_Input):
    store_listing_version_id: str | None = None  # AutoGPT repeats the path id; must match if sent
    is_approved: bool
    comments: str = Field(default="", max_length=5000)
    internal_comments: str | None = Field(default=None, max_length=5000)


class FeatureRequest(BaseModel):
    is_featured: bool


class StoreListingWithVersionsAdminView(BaseModel):
    listing_id: str
    graph_id: str
    slug: str
    owner_id: str
    active_listing_version_id: str | None = None
    has_approved_version: bool = False
    creator_email: str | None = None
    latest_version: StoreSubmission | None = None
    versions: list[StoreSubmission] = []


class StoreListingsWithVersionsAdminViewResponse(BaseModel):
    listings: list[StoreListingWithVersionsAdminView]
    pagination: Pagination
    next_cursor: str | None = None


# --- public ---------------------------------------------------------------------------------
AgentSort = Literal["rating", "runs", "name", "updated_at"]
CreatorSort = Literal["agent_rating", "agent_runs", "num_agents"]


class StoreAgent(BaseModel):
    slug: str
    agent_name: str
    agent_image: str
    creator: str
    creator_avatar: str
    sub_heading: str
    description: str
    runs: int
    rating: float


class StoreAgentsResponse(BaseModel):
    agents: list[StoreAgent]
    pagination: Pagination
    next_cursor: str | None = None


class StoreAgentDetails(BaseModel):
    store_listing_version_id: str
    slug: str
    agent_name: str
    agent_video: str
    agent_output_demo: str
    agent_image: list[str]
    creator: str
    creator_name: str
    creator_avatar: str
    sub_heading: str
    description: str
    instructions: str | None = None
    categories: list[str]
    runs: int
    rating: float
    versions: list[str]
    agentGraphVersions: list[str]
    agentGraphId: str
    last_updated: str
    recommended_schedule_cron: str | None = None
    active_version_id: str | None = None
    has_approved_version: bool = True


class Creator(BaseModel):
    name: str
    username: str
    description: str
    avatar_url: str
    num_agents: int
    agent_rating: float
    agent_runs: int
    is_featured: bool


class CreatorsResponse(BaseModel):
    creators: list[Creator]
    pagination: Pagination
    next_cursor: str | None = None


class CreatorDetails(BaseModel):
    name: str
    username: str
    description: str
    links: list[str]
    avatar_url: str
    agent_rating: float
    agent_runs: int
    top_categories: list[str]


# --- reviews --------------------------------------------------------------------------------
class StoreReviewCreate(_Input):
    store_listing_version_id: str = Field(min_length=1, max_length=100)
    score: int = Field(ge=1, le=5)
    comments: str | None = Field(default=None, max_length=5000)


class StoreReview(BaseModel):
    score: int
    comments: str | None = None
