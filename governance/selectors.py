"""Reads of the governance layer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from projects.selectors import projects_for_user
from segmentation import SegmentationError, load_model
from segplatform.errors import ApplicationError

from .models import SegmentVersion

# Versions are immutable, so a loaded model stays valid for as long as it is cached.
_CACHE: OrderedDict[tuple[int, str], Any] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def versions_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[SegmentVersion]:
    return SegmentVersion.objects.filter(project__in=projects_for_user(user)).select_related("project")


def version_model(version: SegmentVersion) -> Any:
    """The fitted model of a version, loaded once per process.

    The one place the platform turns a stored artefact back into a model: scoring, the charts, the
    diff, DP releases and the scorers all come through here.
    """
    key = (version.pk, version.model_sha256)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        model = load_model(version.model)
    except (SegmentationError, KeyError, TypeError, ValueError) as exc:
        raise ApplicationError(
            f"version {version.label} has a model this platform cannot load ({exc}): start a new run"
        ) from None
    with _CACHE_LOCK:
        _CACHE[key] = model
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model
