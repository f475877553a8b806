"""The ways in, behind one seam: each method brings its pages and its button; an
e-service offers the methods in its configuration that reach the level it needs, and the
method page shows only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import loa
from service.login import methods
from service.oidc import clients
from tests.conftest import World
from tests.helpers import citizen

pytestmark = pytest.mark.integration
TEMPLATES = Path(methods.__file__).resolve().parents[1] / "web" / "templates"


def test_every_way_in_has_its_pages_its_level_and_its_button() -> None:
    for name in loa.METHODS:
        assert name in loa.METHOD_RANK
        module = methods.MODULES[name]
        assert name == module.NAME
        # Under the login's own path; the smart card's step on its listener apart.
        assert module.ROUTES and all(r.path.startswith((f"/login/{{tx}}/{name}", "/card/"))
                                     for r in module.ROUTES)
        assert (TEMPLATES / f"_method_{name}.html").exists()


async def test_an_e_service_offering_bankid_only_shows_no_pin_form(world: World) -> None:
    resp, _ = await citizen.start(world.browser, "rp-bankid-only")
    assert "/bankid/start" in resp.text and 'name="pin"' not in resp.text
    pin = await world.browser.get(citizen.login_url(resp) + "/pin")
    assert pin.status_code == 403  # not a way in for this e-service


async def test_no_way_in_reaching_the_level_is_unmet_requirements(world: World) -> None:
    resp, flow = await citizen.start(world.browser, "rp-pin-loa3")
    q = citizen.query_of(resp.headers["location"])
    assert q["error"] == "unmet_authentication_requirements" and q["state"] == flow.state


def test_the_clients_file_refuses_an_unknown_way_in() -> None:
    with pytest.raises(clients.ClientsError, match="unknown method 'fingerprint'"):
        clients.parse('[[client]]\nclient_id = "x"\nsecret_sha256 = "' + "0" * 64 + '"\n'
                      'redirect_uris = ["https://x.example/cb"]\nmethods = ["fingerprint"]\n')
