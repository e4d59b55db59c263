"""Uploaded files are held in memory, never in a temporary file on disk.

Django spools uploads over ``FILE_UPLOAD_MAX_MEMORY_SIZE`` to ``FILE_UPLOAD_TEMP_DIR`` in clear,
where they would rest unencrypted for the length of the request (and longer if the process
dies). The upload services read the whole file into memory to validate and encrypt it anyway, so
holding it there from the first byte costs nothing more, and a file past ``MAX_UPLOAD_BYTES`` is
cut at one byte past the limit: the service then refuses it by name, without the rest in memory.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers


class InMemoryUploadHandler(FileUploadHandler):
    """Every file in memory, at most ``MAX_UPLOAD_BYTES + 1`` bytes of it."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = BytesIO()
        self.kept = 0
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = settings.MAX_UPLOAD_BYTES + 1 - self.kept
        if room > 0:
            self.file.write(raw_data[:room])
            self.kept += min(room, len(raw_data))
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
