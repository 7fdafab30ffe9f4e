"""The aadap exception hierarchy.

Every exception raised by aadap derives from :class:`AadapError`. The classes are created by
the C++ core (one table maps each C++ error to its Python class), so a C++ ``throw`` arrives as
the Python class of the same name. Input errors also derive from the built-in exception Python
users already catch: ``ConfigurationError``, ``InvalidArgumentError``, ``InvalidStateError``
and ``InvalidTransitionError`` are ``ValueError``; ``InvalidTypeError`` is a ``TypeError``;
``NotFoundError`` is a ``LookupError``; ``StoreUnavailableError`` is a ``ConnectionError``;
``AuthenticationError`` is a ``PermissionError``; ``PlatformTimeoutError`` is a
``TimeoutError``; ``PlatformConnectionError`` is a ``ConnectionError``. A platform call
interrupted with Ctrl-C raises ``KeyboardInterrupt`` (after cancelling what it started).
Structured facts (for example ``ConfigurationError.errors``) are attributes.
"""

from aadap._core import (
    AadapError,
    ApprovalError,
    ApprovalExpiredError,
    ApprovalRejectedError,
    ApprovalRequiredError,
    AuthenticationError,
    CancelledError,
    ConcurrencyError,
    ConfigurationError,
    ContentFilterError,
    ContextLengthError,
    InvalidArgumentError,
    InvalidStateError,
    InvalidTransitionError,
    InvalidTypeError,
    LoopDetectedError,
    NotFoundError,
    PlatformConnectionError,
    PlatformError,
    PlatformTimeoutError,
    RateLimitError,
    RemoteError,
    RetryLimitExceededError,
    StoreError,
    StoreUnavailableError,
    TokenBudgetExceededError,
)

__all__ = [
    "AadapError",
    "ApprovalError",
    "ApprovalExpiredError",
    "ApprovalRejectedError",
    "ApprovalRequiredError",
    "AuthenticationError",
    "CancelledError",
    "ConcurrencyError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextLengthError",
    "InvalidArgumentError",
    "InvalidStateError",
    "InvalidTransitionError",
    "InvalidTypeError",
    "LoopDetectedError",
    "NotFoundError",
    "PlatformConnectionError",
    "PlatformError",
    "PlatformTimeoutError",
    "RateLimitError",
    "RemoteError",
    "RetryLimitExceededError",
    "StoreError",
    "StoreUnavailableError",
    "TokenBudgetExceededError",
]
