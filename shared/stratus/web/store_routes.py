"""Routes of the StoreFunction for the store (an APIRouter the function's app includes).

Thin: parse, call `stratus.store.*`, shape. Public reads answer `Cache-Control: public,
max-age=60` and come from the in-Lambda cache (stratus.store.cache).

External API: `/external-api/v1/store/agents` and `/creators` need an API key with
READ_STORE, as AutoGPT's external router does (`require_permission(READ_STORE)`); the
reference page's "any key" is looser than AutoGPT's code, and we follow the code.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from stratus.auth.api_keys import APIKeyPermission
from stratus.store import admin, profiles, public, publishing, reviews, submissions
from stratus.store.cache import CACHE_CONTROL
from stratus.store.models import (
    AgentSort,
    CreatorDetails,
    CreatorSort,
    CreatorsResponse,
    FeatureRequest,
    MyAgentsResponse,
    Profile,
    ProfileDetails,
    ReviewSubmissionRequest,
    StoreAgentDetails,
    StoreAgentsResponse,
    StoreListingsWithVersionsAdminViewResponse,
    StoreReview,
    StoreReviewCreate,
    StoreSubmission,
    StoreSubmissionEditRequest,
    StoreSubmissionRequest,
    StoreSubmissionsResponse,
    SubmissionStatus,
)
from stratus.users.api_keys import AuthenticatedKey
from stratus.web.app import json_response
from stratus.web.auth import admin_user_id, api_key_with, current_user_id

router = APIRouter(tags=["store"])
UserId = Annotated[str, Depends(current_user_id)]
AdminId = Annotated[str, Depends(admin_user_id)]
StoreKey = Annotated[AuthenticatedKey, Depends(api_key_with(APIKeyPermission.READ_STORE))]
PageNumber = Annotated[int, Query(ge=1, description="1-based; past item 1,000 use cursor")]
PageSize = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]
Text = Annotated[str | None, Query(max_length=200)]


def _public(content: Any) -> Response:
    response = json_response(content)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


# --- profile ----------------------------------------------------------------------------------
@router.get("/api/store/profile", response_model=ProfileDetails)
def get_profile(user_id: UserId) -> ProfileDetails:
    return profiles.get_profile(user_id)


@router.post("/api/store/profile", response_model=ProfileDetails)
def update_or_create_profile(user_id: UserId, body: Profile) -> ProfileDetails:
    return profiles.upsert_profile(user_id, body)


# --- public agents and creators -----------------------------------------------------------------
def _agents(
    featured: bool,
    creator: str | None,
    category: str | None,
    search_query: str | None,
    sorted_by: str | None,
    page: int,
    page_size: int,
    cursor: str | None,
) -> Response:
    return _public(public.list_agents(featured, creator, category, search_query, sorted_by, page, page_size, cursor))


@router.get("/api/store/agents", response_model=StoreAgentsResponse)
def get_agents(
    featured: bool = False,
    creator: Text = None,
    category: Text = None,
    search_query: Text = None,
    sorted_by: AgentSort | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response:
    return _agents(featured, creator, category, search_query, sorted_by, page, page_size, cursor)


@router.get("/api/store/agents/{username}/{agent_name}", response_model=StoreAgentDetails)
def get_agent(username: str, agent_name: str) -> Response:
    return _public(public.get_agent(username, agent_name))


@router.post("/api/store/agents/{username}/{agent_name}/review", response_model=StoreReview)
def create_review(user_id: UserId, username: str, agent_name: str, body: StoreReviewCreate) -> StoreReview:
    return reviews.create_review(user_id, username, agent_name, body)


def _creators(
    featured: bool, search_query: str | None, sorted_by: str | None, page: int, page_size: int, cursor: str | None
) -> Response:
    return _public(public.list_creators(featured, search_query, sorted_by, page, page_size, cursor))


@router.get("/api/store/creators", response_model=CreatorsResponse)
def get_creators(
    featured: bool = False,
    search_query: Text = None,
    sorted_by: CreatorSort | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response:
    return _creators(featured, search_query, sorted_by, page, page_size, cursor)


@router.get("/api/store/creators/{username}", response_model=CreatorDetails)
def get_creator(username: str) -> Response:
    return _public(public.get_creator(username))


# --- submissions -------------------------------------------------------------------------------
@router.get("/api/store/submissions", response_model=StoreSubmissionsResponse)
def get_submissions(user_id: UserId, page: PageNumber = 1, page_size: PageSize = 20) -> StoreSubmissionsResponse:
    return submissions.list_submissions(user_id, page, page_size)


@router.post("/api/store/submissions", response_model=StoreSubmission)
def create_submission(user_id: UserId, body: StoreSubmissionRequest) -> StoreSubmission:
    return submissions.create_submission(user_id, body)


@router.put("/api/store/submissions/{submission_id}", response_model=StoreSubmission)
def edit_submission(user_id: UserId, submission_id: str, body: StoreSubmissionEditRequest) -> StoreSubmission:
    return submissions.edit_submission(user_id, submission_id, body)


@router.delete("/api/store/submissions/{submission_id}")
def delete_submission(user_id: UserId, submission_id: str) -> bool:
    return submissions.delete_submission(user_id, submission_id)


@router.get("/api/store/my-unpublished-agents", response_model=MyAgentsResponse)
def get_my_unpublished_agents(user_id: UserId, page: PageNumber = 1, page_size: PageSize = 20) -> MyAgentsResponse:
    return submissions.my_unpublished_agents(user_id, page, page_size)


# --- admin -------------------------------------------------------------------------------------
@router.get("/api/store/admin/listings", response_model=StoreListingsWithVersionsAdminViewResponse)
def get_admin_listings(
    admin_id: AdminId,
    status: SubmissionStatus | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> StoreListingsWithVersionsAdminViewResponse:
    return admin.admin_listings(status.value if status else None, page, page_size, cursor)


@router.post("/api/store/admin/submissions/{store_listing_version_id}/review", response_model=StoreSubmission)
def review_submission(
    admin_id: AdminId, store_listing_version_id: str, body: ReviewSubmissionRequest
) -> StoreSubmission:
    return publishing.review_submission(admin_id, store_listing_version_id, body)


@router.post("/api/store/admin/submissions/{store_listing_version_id}/featured", response_model=StoreSubmission)
def feature_submission(admin_id: AdminId, store_listing_version_id: str, body: FeatureRequest) -> StoreSubmission:
    """Stratus extension: AutoGPT sets isFeatured in its admin database tooling."""
    return publishing.set_featured(store_listing_version_id, body.is_featured)


# --- external API ------------------------------------------------------------------------------
@router.get("/external-api/v1/store/agents", response_model=StoreAgentsResponse)
def external_get_agents(
    key: StoreKey,
    featured: bool = False,
    creator: Text = None,
    category: Text = None,
    search_query: Text = None,
    sorted_by: AgentSort | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response:
    return _agents(featured, creator, category, search_query, sorted_by, page, page_size, cursor)


@router.get("/external-api/v1/store/creators", response_model=CreatorsResponse)
def external_get_creators(
    key: StoreKey,
    featured: bool = False,
    search_query: Text = None,
    sorted_by: CreatorSort | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    cursor: Cursor = None,
) -> Response:
    return _creators(featured, search_query, sorted_by, page, page_size, cursor)
