"""Password hashing with Argon2id (argon2-cffi), never storing or logging the clear text."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from simpul.errors import ValidationError

_hasher = PasswordHasher()
MIN_LENGTH = 10


def check_policy(password: str) -> None:
    """Refuse passwords too weak for an account that can change a government network."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_LENGTH} characters",
            errors={"password": [f"at least {MIN_LENGTH} characters"]},
        )


def hash_password(password: str) -> str:
    """Return an Argon2id hash of *password* (salted; the PHC string carries parameters)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Return True if *password* matches *stored_hash*; False for any mismatch or bad hash."""
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
