"""The manifest Excel expects (issue 11 item 7), as `planvalidator serve` answers it: XML, the
package's version, the requirement sets the commands need, and our own icons in the sizes
Office asks for, each served and of the size it says."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from importlib.metadata import version

import httpx
import pytest
from PIL import Image, ImageChops

import addin_icons
from serving import running

NS = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1",
      "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
      "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides"}
RIBBON_SIZES = {"16", "32", "80"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("manifest")
    with running(home, {"DPW": "dpw-token-" + "d" * 20}, "office-token-" + "o" * 24) as url:
        answer = httpx.get(url + "/manifest.xml")
        yield url, answer


def test_the_manifest_is_served_as_xml_with_the_packages_version(served):
    _, answer = served
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] in ("application/xml", "text/xml")
    root = ET.fromstring(answer.content)
    release = version("planvalidator").split(".")
    assert root.find("o:Version", NS).text == ".".join((release + ["0"] * 4)[:4])


def test_the_requirement_sets_are_what_the_commands_need(served):
    root = ET.fromstring(served[1].content)
    sets = {s.get("Name"): s.get("MinVersion") for s in root.iterfind("o:Requirements/o:Sets/o:Set", NS)}
    assert sets["ExcelApi"] == "1.9"          # Range.format.fill (set_colors)
    assert sets["SharedRuntime"] == "1.1"     # the ribbon reaches the task pane
    assert "1.18" not in sets.values()        # notes are optional: Excel 2021/2024 lack them


def test_each_command_has_its_own_icons_in_the_sizes_office_asks_for(served):
    url, answer = served
    root = ET.fromstring(answer.content)
    images = {i.get("id"): i.get("DefaultValue") for i in root.iter(f"{{{NS['bt']}}}Image")
              if i.get("id")}
    controls = list(root.iter(f"{{{NS['ov']}}}Control"))
    assert len(controls) >= 4
    seen = set()
    for control in controls:
        icon = control.find("ov:Icon", NS)
        declared = {i.get("size"): images[i.get("resid")] for i in icon}
        assert set(declared) == RIBBON_SIZES, control.get("id")
        assert declared["32"] not in seen, f"{control.get('id')} shares another command's icon"
        seen.add(declared["32"])
        for size, href in declared.items():
            assert "xlwings" not in href
            check_png(href, int(size), url)
    check_png(root.find("o:IconUrl", NS).get("DefaultValue"), 32, url)
    check_png(root.find("o:HighResolutionIconUrl", NS).get("DefaultValue"), 64, url)


def check_png(href: str, size: int, url: str) -> None:
    answer = httpx.get(url + href[href.index("/static/"):])   # the manifest names the public host
    assert answer.status_code == 200, href
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.size == (size, size), href


def test_the_committed_icons_are_what_the_generator_draws():
    for name, drawn in addin_icons.files().items():
        committed = Image.open(addin_icons.ICONS / name).convert("RGBA")
        assert committed.size == drawn.size, name
        assert ImageChops.difference(committed, drawn).getbbox() is None, name
