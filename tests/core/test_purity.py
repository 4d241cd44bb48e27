"""The domain stays free of the web, Twilio and storage: checked by importing it in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bot.core

FORBIDDEN = ("flask", "twilio", "redis", "sqlalchemy", "rq", "werkzeug")


def test_core_imports_no_web_or_storage_library() -> None:
    root = Path(bot.core.__file__).parent
    modules = sorted(
        ".".join(p.relative_to(root).with_suffix("").parts) for p in root.rglob("*.py") if p.stem != "__init__"
    )
    code = (
        "import sys\n"
        + "".join(f"import bot.core.{m}\n" for m in modules)
        + f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        + "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"bot.core pulled in: {out.stdout.strip()}"
    assert len(modules) >= 8
