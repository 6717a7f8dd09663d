"""``/download/<name>``: the dumps of the current release, streamed from disk.

Werkzeug's ``send_file`` answers ``ETag``/``Last-Modified`` conditional requests (304) and
``Range`` requests (206) and streams the file without reading it into memory.
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, send_file

from lod.release.layout import Release
from lod.release.manifest import GZIP_MEDIA_TYPE
from lod.web.context import lod_context
from lod.web.errors import error_response

blueprint = Blueprint("downloads", __name__)


@blueprint.route("/download/<name>", methods=["GET", "HEAD", "OPTIONS"])
def download(name: str) -> Response:
    release = lod_context().releases.get()
    response = dump_response(release, name, max_age=3600)
    if response is None:
        available = ", ".join(d.name for d in release.manifest.dumps)
        return error_response(404, f"no dump named {name!r}; available: {available}")
    return response


def dump_response(release: Release, name: str, *, max_age: int) -> Response | None:
    """The dump ``name`` of ``release`` with its SHA-256 as ETag and Repr-Digest, or None when the
    release has no such dump (only names its manifest lists are looked up: nothing else can be
    reached)."""
    path = release.dump_path(name)
    if path is None:
        return None
    dump = next(d for d in release.manifest.dumps if d.name == name)
    mimetype = GZIP_MEDIA_TYPE if dump.gzipped else dump.format.media_type
    response = send_file(path, mimetype=mimetype, conditional=True, etag=dump.sha256,
                         download_name=name, as_attachment=False, max_age=max_age)
    # RFC 9530: the digest of the whole file, whatever range this response carries.
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(dump.sha256)).decode()}:"
    return response
