"""schemathesis hooks for idgate: uploads are raw bytes, whatever their media type."""

import schemathesis

schemathesis.serializer.alias(["video/webm", "video/mp4", "video/quicktime", "image/webp"], "application/octet-stream")
