"""BankID animated QR codes (BankID RP API v6, "animated QR code").

``bankid.<qrStartToken>.<time>.<qrAuthCode>`` where ``qrAuthCode`` is
hex(HMAC-SHA256(key=qrStartSecret, msg=str(time))) and ``time`` is whole seconds since
the ``/auth`` response. The secret never leaves the server.
"""

from __future__ import annotations

import hmac
import io

import segno


def auth_code(qr_start_secret: str, seconds: int) -> str:
    return hmac.digest(qr_start_secret.encode(), str(seconds).encode(), "sha256").hex()


def payload(qr_start_token: str, qr_start_secret: str, seconds: int) -> str:
    return f"bankid.{qr_start_token}.{seconds}.{auth_code(qr_start_secret, seconds)}"


def seconds_since(started_at: float, now: float) -> int:
    return max(0, int(now - started_at))


def svg(data: str, *, title: str) -> str:
    """The QR code as an inline SVG with an accessible title."""
    out = io.BytesIO()
    segno.make(data, error="l", micro=False).save(
        out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True, title=title,
        svgclass="qr", lineclass=None, omitsize=False,
    )
    return out.getvalue().decode()


def autostart_link(auto_start_token: str, *, mobile: bool = False) -> str:
    """Same-device start. On a phone or tablet BankID's universal link (it opens the app
    on iOS and Android, and the app returns to the ``returnUrl`` of the order); on a
    computer the ``bankid:///`` scheme of the desktop app. ``redirect=null``: the order
    itself says where to return."""
    if mobile:
        return f"https://app.bankid.com/?autostarttoken={auto_start_token}&redirect=null"
    return f"bankid:///?autostarttoken={auto_start_token}&redirect=null"


_MOBILE = ("iPhone", "iPad", "iPod", "Android", "Mobile")


def is_mobile(user_agent: str) -> bool:
    """Whether the browser runs on a phone or tablet (where the universal link works)."""
    return any(m in user_agent for m in _MOBILE)
