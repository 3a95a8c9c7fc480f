"""Personal data encrypted at rest (issue 9): SM4 for the values, HMAC-SM3 to find them.

The one home of the cryptography. Values are sealed with SM4 (GB/T 32907-2016) in
GCM mode, so a changed or mis-keyed value fails to open instead of reading as
garbage; lookups go through a blind index, an HMAC-SM3 (GB/T 32905-2016) of the
normalised value under a key of its own, which a B-tree indexes like any column.

A sealed value is a self-describing token, ``<key id>:<base64(nonce | ciphertext | tag)>``,
with a random 12-byte nonce and the key id as associated data (moving a token to
another key id breaks its tag). The key id on each value lets keys rotate: add a
key, make it current, and ``manage.py rotate_keys`` re-encrypts what the others sealed.

The audit trail's chain (``cases/audit_chain.py``) is an HMAC-SM3 too, under keys of its
own (:func:`audit_key_settings`, :func:`audit_mac`): each MAC names its key id, so a new
key made current leaves the rows sealed under the old one verifying under it.

The keys live outside the database, in the environment or a key file (settings
``FIELD_ENCRYPTION_KEYS``, ``FIELD_ENCRYPTION_CURRENT``, ``BLIND_INDEX_KEY``, read
by :func:`key_settings`):

* ``PETITIONDESK_FIELD_KEYS``: ``k1:<32 hex digits>,k2:<32 hex digits>``, 16-byte SM4 keys;
* ``PETITIONDESK_FIELD_KEY_CURRENT``: the key id new values are sealed with (default:
  the last one listed);
* ``PETITIONDESK_BLIND_INDEX_KEY``: 32 bytes in hex, for the blind index. It does not
  rotate with the others: every index would have to be recomputed;
* ``PETITIONDESK_FIELD_KEY_FILE``: a file of ``NAME=value`` lines with those names
  (``#`` starts a comment); a variable set in the environment wins over the file.
  ``scripts/stack.py`` writes one under ``.data/`` (mode 0600) on the first start.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "AUDIT_KEY_NAMES",
    "KEY_NAMES",
    "DecryptionError",
    "audit_key_ids",
    "audit_key_lines",
    "audit_key_settings",
    "audit_mac",
    "audit_signer",
    "blind_index",
    "current_key_id",
    "generate_key_file_text",
    "key_id_of",
    "key_settings",
    "needs_rotation",
    "normalize_for_index",
    "sm4_decrypt",
    "sm4_encrypt",
    "sm4_reseal",
]

KEY_BYTES = 16  # SM4 is a 128-bit cipher
INDEX_KEY_BYTES = 32
NONCE_BYTES = 12  # GCM's own size; random, so about 2**32 values per key stay safe
TAG_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
KEY_NAMES = ("PETITIONDESK_FIELD_KEYS", "PETITIONDESK_FIELD_KEY_CURRENT",
             "PETITIONDESK_BLIND_INDEX_KEY")
NO_KEYS = ("No keys for the personal data encrypted at rest: set PETITIONDESK_FIELD_KEYS "
           "and PETITIONDESK_BLIND_INDEX_KEY, or PETITIONDESK_FIELD_KEY_FILE (a file of "
           "NAME=value lines); `make run` writes one under .data/ on its first start.")


class DecryptionError(Exception):
    """A sealed value that cannot be opened: unknown key id, wrong key, or altered."""


# --- Keys ------------------------------------------------------------------------

def key_settings(*, environ: dict | None = None) -> tuple[dict[str, bytes], str, bytes]:
    """Read the keys from the environment and the key file; return the three settings.

    Returns ``({}, "", b"")`` when none is configured: the environment decides whether
    that may start (production refuses). Raises ImproperlyConfigured on a malformed key.
    """
    values = _key_values(environ, KEY_NAMES)
    keys, current = _key_ring(values, "PETITIONDESK_FIELD_KEYS",
                              "PETITIONDESK_FIELD_KEY_CURRENT", KEY_BYTES)
    index_key = _hex_key(values.get("PETITIONDESK_BLIND_INDEX_KEY", ""),
                         "PETITIONDESK_BLIND_INDEX_KEY", INDEX_KEY_BYTES)
    return keys, current, index_key


AUDIT_KEY_NAMES = ("PETITIONDESK_AUDIT_KEYS", "PETITIONDESK_AUDIT_KEY_CURRENT")
AUDIT_KEY_BYTES = 32


def audit_key_settings(*, environ: dict | None = None) -> tuple[dict[str, bytes], str]:
    """The audit chain's HMAC-SM3 keys by id and the current id, read like the others.

    ``PETITIONDESK_AUDIT_KEYS`` is ``a1:<64 hex digits>,a2:...``; the current one is
    ``PETITIONDESK_AUDIT_KEY_CURRENT`` or the last listed. Returns ``({}, "")`` when none
    is configured: the environment decides whether that may start (production refuses).
    """
    return _key_ring(_key_values(environ, AUDIT_KEY_NAMES), "PETITIONDESK_AUDIT_KEYS",
                     "PETITIONDESK_AUDIT_KEY_CURRENT", AUDIT_KEY_BYTES)


def audit_key_lines() -> str:
    """The key-file lines of a new audit key, for a key file that has none yet."""
    return ("# The audit trail's HMAC-SM3 chain (cases/audit_chain.py).\n"
            f"PETITIONDESK_AUDIT_KEYS=a1:{secrets.token_hex(AUDIT_KEY_BYTES)}\n"
            "PETITIONDESK_AUDIT_KEY_CURRENT=a1\n")


def _read_key_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"Cannot read the key file {path} "
                                   f"(PETITIONDESK_FIELD_KEY_FILE): {error}") from None
    values = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _sep, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _key_values(environ: dict | None, names: tuple[str, ...]) -> dict[str, str]:
    """The named settings from the key file, then the environment, which wins."""
    environ = os.environ if environ is None else environ
    values = {}
    path = environ.get("PETITIONDESK_FIELD_KEY_FILE", "")
    if path:
        values = _read_key_file(Path(path))
    values.update({name: environ[name] for name in names if environ.get(name)})
    return values


def _key_ring(values: dict[str, str], keys_name: str, current_name: str,
              size: int) -> tuple[dict[str, bytes], str]:
    """``id:<hex>,id:<hex>`` under ``keys_name`` as keys by id, and the current id: the one
    ``current_name`` names, else the last listed."""
    keys = {}
    for item in filter(None, (part.strip() for part in
                              values.get(keys_name, "").replace("\n", ",").split(","))):
        key_id, _sep, value = item.partition(":")
        if not KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(f"{keys_name}: {key_id!r} is not a key id (1-16 letters, "
                                       f"digits, - or _), as in k1:<{2 * size} hex digits>.")
        keys[key_id] = _hex_key(value, f"{keys_name} ({key_id})", size)
    current = values.get(current_name, "") or (list(keys)[-1] if keys else "")
    if keys and current not in keys:
        raise ImproperlyConfigured(f"{current_name} is {current!r}, which is not among the "
                                   f"keys of {keys_name} ({', '.join(keys)}).")
    return keys, current


def _hex_key(value: str, name: str, size: int) -> bytes:
    if not value:
        return b""
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) < size or (size == KEY_BYTES and len(key) != size):
        raise ImproperlyConfigured(f"{name} must be {size} bytes written as {2 * size} "
                                   "hex digits.")
    return key


def generate_key_file_text(*, key_id: str = "k1") -> str:
    """A new key file: one SM4 key (current) and a blind-index key, from the OS's CSPRNG."""
    return ("# PetitionDesk's keys for personal data at rest (config/crypto.py). Keep a copy\n"
            "# somewhere safe: without it the ID numbers in the database cannot be read.\n"
            f"PETITIONDESK_FIELD_KEYS={key_id}:{secrets.token_hex(KEY_BYTES)}\n"
            f"PETITIONDESK_FIELD_KEY_CURRENT={key_id}\n"
            f"PETITIONDESK_BLIND_INDEX_KEY={secrets.token_hex(INDEX_KEY_BYTES)}\n"
            + audit_key_lines())


@lru_cache(maxsize=1)
def _ring() -> tuple[dict[str, algorithms.SM4], str, hmac.HMAC]:
    """The SM4 keys by id, the current id and a keyed HMAC-SM3 to copy, from the settings."""
    from django.conf import settings

    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", {})
    index_key = getattr(settings, "BLIND_INDEX_KEY", b"")
    if not keys or not index_key:
        raise ImproperlyConfigured(NO_KEYS)
    ciphers = {key_id: algorithms.SM4(key) for key_id, key in keys.items()}
    return ciphers, settings.FIELD_ENCRYPTION_CURRENT, hmac.HMAC(index_key, hashes.SM3())


NO_AUDIT_KEYS = ("No key for the audit trail's HMAC-SM3 chain: set PETITIONDESK_AUDIT_KEYS "
                 "(a1:<64 hex digits>) in the environment or the key file "
                 "(PETITIONDESK_FIELD_KEY_FILE); `make run` adds one to .data/field-keys. "
                 "Case events cannot be written or verified without it.")


@lru_cache(maxsize=1)
def _audit_ring() -> tuple[dict[str, hmac.HMAC], str]:
    """A keyed HMAC-SM3 to copy per audit key id, and the current id, from the settings."""
    from django.conf import settings

    keys = getattr(settings, "AUDIT_MAC_KEYS", {})
    if not keys:
        raise ImproperlyConfigured(NO_AUDIT_KEYS)
    current = getattr(settings, "AUDIT_MAC_CURRENT", "") or list(keys)[-1]
    if current not in keys:
        raise ImproperlyConfigured(f"AUDIT_MAC_CURRENT is {current!r}, which is not among the "
                                   f"keys of AUDIT_MAC_KEYS ({', '.join(keys)}).")
    return {key_id: hmac.HMAC(key, hashes.SM3()) for key_id, key in keys.items()}, current


def _forget_keys(*, setting: str, **_kwargs) -> None:
    """Tests swap keys with override_settings: read them again on next use."""
    if setting in ("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_CURRENT", "BLIND_INDEX_KEY"):
        _ring.cache_clear()
    if setting in ("AUDIT_MAC_KEYS", "AUDIT_MAC_CURRENT"):
        _audit_ring.cache_clear()


def _connect() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_forget_keys, dispatch_uid="config.crypto.forget_keys")


_connect()


# --- Values ----------------------------------------------------------------------

def sm4_encrypt(plaintext: str, *, key_id: str | None = None) -> str:
    """Seal ``plaintext`` with SM4-GCM under the current key (or ``key_id``); return the token."""
    ciphers, current, _index = _ring()
    key_id = key_id or current
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(ciphers[key_id], modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(key_id.encode())
    sealed = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return f"{key_id}:{base64.b64encode(nonce + sealed + encryptor.tag).decode()}"


def sm4_decrypt(token: str) -> str:
    """Open a token made by :func:`sm4_encrypt`; raise DecryptionError if it cannot be."""
    key_id, _sep, body = token.partition(":")
    ciphers, _current, _index = _ring()
    if key_id not in ciphers:
        known = ", ".join(ciphers)
        raise DecryptionError(f"A value sealed under key {key_id!r} cannot be read: that key "
                              f"is not in FIELD_ENCRYPTION_KEYS (there are: {known}).")
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"Not a sealed value (key {key_id!r}): the token is malformed.")
    nonce, sealed, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(ciphers[key_id], modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(key_id.encode())
    try:
        return (decryptor.update(sealed) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionError(f"A value sealed under key {key_id!r} does not open with the key "
                              f"configured under that id: the key is wrong or the value was "
                              "altered.") from None


def sm4_reseal(token: str) -> str:
    """Open a token and seal its value again under the current key (key rotation)."""
    return sm4_encrypt(sm4_decrypt(token))


def key_id_of(token: str) -> str:
    """The id of the key a token was sealed with."""
    return token.partition(":")[0]


def needs_rotation(token: str) -> bool:
    """Whether a stored token was sealed under a key other than the current one."""
    return bool(token) and key_id_of(token) != _ring()[1]


def current_key_id() -> str:
    return _ring()[1]


# --- Lookups ---------------------------------------------------------------------

def normalize_for_index(value: str) -> str:
    """NFKC (full-width digits and letters become ASCII), trimmed, upper case."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(value: str) -> str:
    """HMAC-SM3 of the normalised value, 64 hex digits; "" for an empty value.

    Equal values give equal indexes, so an exact lookup is an index lookup; nothing
    else about the value (its prefix, its order) survives, so partial matching cannot.
    """
    value = normalize_for_index(value or "")
    if not value:
        return ""
    mac = _ring()[2].copy()
    mac.update(value.encode())
    return mac.finalize().hex()


# --- The audit chain ---------------------------------------------------------------

def audit_mac(data: bytes, *, key_id: str | None = None) -> str:
    """HMAC-SM3 of ``data`` under the current audit key (or ``key_id``): ``<key id>:<64 hex>``.

    Raises KeyError for a key id not configured (:func:`audit_key_ids` says which are).
    """
    return audit_signer(key_id)(data)


def audit_signer(key_id: str | None = None) -> Callable[[bytes], str]:
    """:func:`audit_mac` under one key, for a loop over thousands of rows: each call copies
    a keyed HMAC object, which costs half a new one (the key's pads are hashed once)."""
    macs, current = _audit_ring()
    key_id = key_id or current
    keyed, prefix = macs[key_id], f"{key_id}:"

    def sign(data: bytes) -> str:
        mac = keyed.copy()
        mac.update(data)
        return prefix + mac.finalize().hex()

    return sign


def audit_key_ids() -> tuple[frozenset[str], str]:
    """The audit key ids configured, and the one new rows are sealed with."""
    macs, current = _audit_ring()
    return frozenset(macs), current
