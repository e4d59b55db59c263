"""File storage that encrypts every file at rest (Fernet: AES-128-CBC with HMAC-SHA256).

Uploads, labels and deliverables all go through it, so nothing a client sent, nor anything
derived from it, is ever written to disk in clear.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


def fernet() -> Fernet:
    return Fernet(settings.DATA_ENCRYPTION_KEY.encode())


@deconstructible
class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: File) -> str:
        content.seek(0)
        token = fernet().encrypt(content.read())
        return super()._save(name, ContentFile(token))

    def _open(self, name: str, mode: str = "rb") -> File:
        with super()._open(name, "rb") as encrypted:
            token = encrypted.read()
        try:
            return ContentFile(fernet().decrypt(token), name=name)
        except InvalidToken:
            raise OSError(f"{name} cannot be decrypted with this DATA_ENCRYPTION_KEY") from None
