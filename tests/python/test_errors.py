"""The exception hierarchy: one table maps every C++ error to the Python class of its name."""

from __future__ import annotations

import pickle

import pytest

import aadap
from aadap import _core

ALL = [
    "AadapError", "ConfigurationError", "InvalidArgumentError", "InvalidTypeError",
    "InvalidStateError", "InvalidTransitionError", "LoopDetectedError",
    "RetryLimitExceededError", "ConcurrencyError", "TokenBudgetExceededError", "ApprovalError",
    "ApprovalRequiredError", "ApprovalRejectedError", "ApprovalExpiredError", "NotFoundError",
    "StoreError", "StoreUnavailableError", "PlatformError", "AuthenticationError",
    "RateLimitError", "PlatformTimeoutError", "RemoteError",
]  # fmt: skip

BUILTIN_BASES = {
    "ConfigurationError": ValueError,
    "InvalidArgumentError": ValueError,
    "InvalidTypeError": TypeError,
    "InvalidStateError": ValueError,
    "InvalidTransitionError": ValueError,
    "LoopDetectedError": ValueError,
    "NotFoundError": LookupError,
    "StoreUnavailableError": ConnectionError,
    "AuthenticationError": PermissionError,
    "PlatformTimeoutError": TimeoutError,
}

PARENTS = {
    "LoopDetectedError": "InvalidTransitionError",
    "RetryLimitExceededError": "LoopDetectedError",
    "ApprovalRequiredError": "ApprovalError",
    "ApprovalRejectedError": "ApprovalError",
    "ApprovalExpiredError": "ApprovalError",
    "StoreUnavailableError": "StoreError",
    "AuthenticationError": "PlatformError",
    "RateLimitError": "PlatformError",
    "PlatformTimeoutError": "PlatformError",
    "RemoteError": "PlatformError",
}


@pytest.mark.parametrize("name", ALL)
def test_cpp_throw_arrives_as_the_named_class(name: str) -> None:
    cls = getattr(aadap, name)
    with pytest.raises(cls) as info:
        _core._raise_error(name, f"boom from {name}")
    assert type(info.value) is cls
    assert str(info.value) == f"boom from {name}"
    assert info.value.origin == "c++"  # structured details become attributes
    assert isinstance(info.value, aadap.AadapError)
    if name in PARENTS:
        assert isinstance(info.value, getattr(aadap, PARENTS[name]))
    if name in BUILTIN_BASES:
        assert isinstance(info.value, BUILTIN_BASES[name])


def test_spec_names_are_all_exported() -> None:
    assert set(ALL) <= set(aadap.__all__)
    assert set(ALL) <= set(aadap.errors.__all__)


def test_classes_present_themselves_as_aadap() -> None:
    assert aadap.ConcurrencyError.__module__ == "aadap"
    assert aadap.ConcurrencyError.__doc__


def test_exceptions_pickle_for_multiprocessing() -> None:
    error = aadap.ConcurrencyError("version 3 expected, 4 found")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is aadap.ConcurrencyError
    assert str(again) == "version 3 expected, 4 found"


def test_unknown_class_name_is_an_input_error() -> None:
    with pytest.raises(ValueError, match="unknown error class"):
        _core._raise_error("NoSuchError", "x")
