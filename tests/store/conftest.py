from __future__ import annotations

import pytest

from vidtask.store.base import TaskStore


@pytest.fixture
def store(each_store: TaskStore) -> TaskStore:
    return each_store
