"""PBKDF2 over HMAC-SM3: the password hasher the national standards ask for (issue 9).

Django's PBKDF2 hasher derives through ``hashlib.pbkdf2_hmac(digest().name, ...)``, which
knows SM3 only when the system's OpenSSL was built with it; some distributions' builds
leave it out. The derivation here goes through ``cryptography``, whose wheels carry
their own OpenSSL with SM3, so the same hash verifies on every server. The stored form
is Django's: ``pbkdf2_sm3$<iterations>$<salt>$<base64 hash>``.
"""

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils.encoding import force_bytes

SM3_DIGEST_SIZE = 32


def pbkdf2_sm3(password: str, salt: str, iterations: int) -> bytes:
    """Derive 32 bytes from ``password`` with PBKDF2-HMAC-SM3 (GB/T 32905 hash)."""
    kdf = PBKDF2HMAC(algorithm=hashes.SM3(), length=SM3_DIGEST_SIZE,
                     salt=force_bytes(salt), iterations=iterations)
    return kdf.derive(force_bytes(password))


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-HMAC-SM3; first in PASSWORD_HASHERS, so older hashes are redone at login."""

    algorithm = "pbkdf2_sm3"
    # SM3 costs about twice SHA-256 here: 600,000 rounds (OWASP's figure for SHA-256)
    # take about as long as Django's 1,000,000 SHA-256 rounds, some 0.3 s a login.
    iterations = 600_000
    # Unused: encode() below derives without Django's hashlib-based pbkdf2().
    digest = None

    def encode(self, password, salt, iterations=None):
        self._check_encode_args(password, salt)
        iterations = iterations or self.iterations
        hash = base64.b64encode(pbkdf2_sm3(password, salt, iterations)).decode("ascii")
        return f"{self.algorithm}${iterations:d}${salt}${hash}"
