"""Fixtures for the merchants tests."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every fixture user gets a password; Django's default PBKDF2 costs ~0.4 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
