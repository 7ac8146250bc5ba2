"""Rectification notices (整改通知书): content from the store, DOCX/PDF/HTML files, versions."""

from api.notices.generate import (
    GeneratedNotice,
    NoticeFormat,
    generate_notice,
    next_version,
    write_demo_notice,
)
from api.notices.model import (
    PREVIEW_BANNER,
    NoticeContent,
    NoticeError,
    NoticeFilesExist,
    build_notice,
)
from api.notices.policy import NoticePolicy, PolicyError, Rectification, load_policy

__all__ = [
    "PREVIEW_BANNER",
    "GeneratedNotice",
    "NoticeContent",
    "NoticeError",
    "NoticeFilesExist",
    "NoticeFormat",
    "NoticePolicy",
    "PolicyError",
    "Rectification",
    "build_notice",
    "generate_notice",
    "load_policy",
    "next_version",
    "write_demo_notice",
]
