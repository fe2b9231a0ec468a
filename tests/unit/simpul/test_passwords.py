"""Password hashing: Argon2id, salted, verifiable, never the clear text."""

from __future__ import annotations

import pytest

from simpul.errors import ValidationError
from simpul.passwords import check_policy, hash_password, verify_password


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert "correct horse battery" not in first
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse battery!")
    assert not verify_password("", "anything")
    assert not verify_password("not-a-hash", "anything")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least 10 characters"):
        check_policy("short")
