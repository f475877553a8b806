"""What a way in hands the login when it is done: the person, the level of assurance
the login reached and the method's evidence. Every method ends in a ``Proof``; only
``identity`` turns one into the ``Identity`` a session keeps. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from service import loa
from service.personnummer import PersonalNumber
from service.records import Identity


@dataclass(frozen=True, slots=True)
class Proof:
    person: PersonalNumber
    given_name: str
    family_name: str
    method: str  # one of loa.METHODS
    level: int  # 2 or 3: what this login reached (at most loa.METHOD_RANK[method])
    evidence: str = ""  # the order reference, the card's issuer/serial/fingerprint, …
    employee_id: str = ""  # a staff card's

    def identity(self, levels: tuple[str, ...], now: int) -> Identity:
        """The identity a session keeps, its ``acr`` from the deployment's ``levels``."""
        level = min(self.level, loa.METHOD_RANK[self.method])
        return Identity(personal_number=self.person.digits, given_name=self.given_name[:100],
                        family_name=self.family_name[:100], method=self.method,
                        acr=loa.stated_for(level, levels), auth_time=now,
                        birthdate=self.person.birthdate.isoformat(),
                        coordination_number=self.person.is_coordination_number,
                        employee_id=self.employee_id, evidence=self.evidence[:160])
