"""Which claims an e-service gets (Swedish OIDC profile, oidc.se).

A claim is released only if it was asked for (scope or ``claims`` parameter) and the
e-service is configured for it. Pure functions.
"""

from __future__ import annotations

from typing import Any

from service.records import Identity

PNR = "https://id.oidc.se/claim/personalIdentityNumber"
COORDINATION = "https://id.oidc.se/claim/coordinationNumber"
ORG_NUMBER = "https://id.oidc.se/claim/orgNumber"
ORG_NAME = "https://id.oidc.se/claim/orgName"
ORG_AFFILIATION = "https://id.oidc.se/claim/orgAffiliation"
SCOPE_ORG = "https://id.oidc.se/scope/naturalPersonOrgId"
ORG_CLAIMS = (ORG_NUMBER, ORG_NAME, ORG_AFFILIATION)
SCOPE_PERSON_INFO = "https://id.oidc.se/scope/naturalPersonInfo"
SCOPE_PERSON_NUMBER = "https://id.oidc.se/scope/naturalPersonNumber"
# A city employee's id from their staff card (no oidc.se claim exists for it): only for
# e-services configured for it, and only after a staff-card login.
EMPLOYEE_ID = "urn:idportal:claim:employeeId"
SCOPE_EMPLOYEE = "urn:idportal:scope:employee"

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": (),
    "profile": ("given_name", "family_name", "name", "birthdate"),
    SCOPE_PERSON_INFO: ("given_name", "family_name", "name", "birthdate"),
    SCOPE_PERSON_NUMBER: (PNR, COORDINATION),
    # A representative acting for an organisation (only in organisation context).
    SCOPE_ORG: ("given_name", "family_name", "name", *ORG_CLAIMS),
    SCOPE_EMPLOYEE: (EMPLOYEE_ID,),
}
ALL_CLAIMS = tuple(sorted({c for cs in SCOPE_CLAIMS.values() for c in cs}))
# The oidc.se Signature Extension's scopes (sign_request.py): no claims of their own.
SIGN_SCOPES = ("https://id.oidc.se/scope/sign", "https://id.oidc.se/scope/signApproval")
SCOPES = (*SCOPE_CLAIMS, "offline_access", *SIGN_SCOPES)


def identity_claims(identity: Identity) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "given_name": identity.given_name,
        "family_name": identity.family_name,
        "name": identity.name,
    }
    if identity.birthdate:
        claims["birthdate"] = identity.birthdate
    # The profile: coordinationNumber never together with personalIdentityNumber.
    claims[COORDINATION if identity.coordination_number else PNR] = identity.personal_number
    if identity.employee_id:
        claims[EMPLOYEE_ID] = identity.employee_id
    return claims


def requested(scope: tuple[str, ...], claims_param: dict[str, Any], target: str) -> set[str]:
    """Names asked for by scope plus the ``claims`` parameter's ``target`` member
    (``id_token`` or ``userinfo``; OIDC Core §5.5)."""
    names = {c for s in scope for c in SCOPE_CLAIMS.get(s, ())}
    member = claims_param.get(target)
    if isinstance(member, dict):
        names.update(k for k in member if isinstance(k, str))
    return names


def org_claims(identity: Identity, org: dict[str, str]) -> dict[str, Any]:
    """The organisation claims of a representative acting for ``org`` (number, name)."""
    return {ORG_NUMBER: org["number"], ORG_NAME: org["name"],
            ORG_AFFILIATION: f"{identity.personal_number}@{org['number']}"}


def release(identity: Identity, names: set[str], allowed: frozenset[str],
            org: dict[str, str] | None = None) -> dict[str, Any]:
    """Asked ∩ configured. Organisation claims only in organisation context (``org``):
    in personal context an e-service never gets them, whatever it asks."""
    available = identity_claims(identity)
    if org:
        available.update(org_claims(identity, org))
    return {k: v for k, v in available.items() if k in names and k in allowed}
