"""The whole cycle through the add-in, under Node with xlwings-server's real client:
Get my plan → fill in the actuals → Validate → Submit the update → `sync --store` → the
consolidated plan holds the actuals (issue 11, acceptance).

The office has the FY2027 Plans of BCFD, DOT and OPI (submitted through the add-in) and merged
them from the store. DOT's analyst opens the blank FY2027 template in Excel (the fake Excel of
tests/js/fake_excel.mjs, driven by tests/js/run_client.mjs) and does the rest by clicking.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from click.testing import CliRunner

import officejs
from planvalidator.cli import main
from planvalidator.citywide.store import list_submissions
from plans import fy2027_plans
from serving import INCLUDE, OFFICE, TOKENS, actions, call, running, shown
from test_officejs_client import node, run_client, workbook_spec  # noqa: F401 (node: fixture)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "plan-template-fy2027.xlsx"
MIDYEAR = ROOT / "examples" / "fy2027" / "dot-midyear-fy2027-clean.xlsx"
TYPED = ("Mid-Year Actual", "Status", "Status Explanation")   # what the analyst fills in


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """The server, its store holding the FY2027 Plans, and the office's merge of them."""
    home = tmp_path_factory.mktemp("twoway")
    with running(home, TOKENS, OFFICE) as url:
        import httpx
        with httpx.Client(base_url=url, timeout=60) as client:
            for plan in sorted(fy2027_plans(home / "plans").glob("*.xlsx")):
                agency = plan.name.split("-")[0].upper()
                assert shown(actions(call(client, "submit", officejs.payload(plan, INCLUDE),
                                          TOKENS[agency])))["receipt"]
        citywide = home / "citywide-fy2027.xlsx"
        result = CliRunner().invoke(main, ["merge", "--store", str(home / "submissions"),
                                           "-o", str(citywide), "-q"])
        assert result.exit_code == 0, result.output
        yield type("Office", (), {"url": url, "store": home / "submissions", "home": home,
                                  "citywide": citywide})


def measures(path: Path, agency: str | None = None) -> dict[str, dict]:
    """Measure ID → {column label: value} of a plan or consolidated plan's Measures sheet."""
    rows = list(openpyxl.load_workbook(path)["Measures"].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if "Measure ID" in r)
    head = rows[top]
    out = {}
    for r in rows[top + 1:]:
        row = dict(zip(head, r))
        if row.get("Measure ID") and (agency is None or row.get("Agency") in (None, agency)):
            out[row["Measure ID"]] = row
    return out


def typing_steps(plan: Path, update: Path) -> list[str]:
    """type: steps that enter the update file's actuals where Get my plan puts the plan's
    measures (from row 4, in the plan's order)."""
    head = list(openpyxl.load_workbook(plan)["Measures"].iter_rows(min_row=3, max_row=3,
                                                                    values_only=True))[0]
    wanted = measures(update)
    steps = []
    for row, mid in enumerate(measures(plan), start=4):
        for label in TYPED:
            value = wanted[mid][label]
            if value is not None:
                col = openpyxl.utils.get_column_letter(head.index(label) + 1)
                steps.append(f"type:Measures!{col}{row}={quote(str(value))}")
    return steps


def test_get_my_plan_fill_validate_submit_sync(node, office, tmp_path):  # noqa: F811
    plan_file = office.home / "plans" / "dot-plan-fy2027.xlsx"
    plan = measures(plan_file)
    head = list(openpyxl.load_workbook(plan_file)["Measures"].iter_rows(
        min_row=3, max_row=3, values_only=True))[0]
    target = openpyxl.utils.get_column_letter(head.index("FY2027 Target") + 1)
    typing = typing_steps(plan_file, MIDYEAR)
    steps = (["ribbon:pv-get-plan"] + typing + [f"type:Measures!{target}4=0.5"] +
             ["ribbon:pv-validate", "ribbon:pv-submit", "click:pv-submissions-load",
              "ribbon:pv-validate"])
    result = run_client(node, office, tmp_path, workbook_spec(TEMPLATE), steps,
                        token=TOKENS["DOT"])
    assert [s["errors"] for s in result["steps"]] == [[]] * len(steps)
    got_plan, *typed = result["steps"][:len(typing) + 2]
    validated, submitted, listed, again = result["steps"][-4:]

    # 1. Get my plan: the blank template gets DOT's FY2027 Plan, for the Mid-Year Update.
    filled = {s["name"]: s for s in got_plan["workbook"]["sheets"]}
    rows = filled["Measures"]["values"]
    assert [r[0] for r in rows[3:] if r[0]] == list(plan)
    assert {r[0]: r[head.index("FY2027 Target")] for r in rows[3:] if r[0]} == \
        {mid: m["FY2027 Target"] for mid, m in plan.items()}
    agency = {r[0]: r[1] for r in filled["Agency"]["values"] if r and r[0]}
    assert (agency["Agency Code"], agency["Plan Stage"]) == ("DOT", "Mid-Year Update")
    # the targets arrive locked, on a protected sheet: typing a target is refused
    assert filled["Measures"]["locked"] == {f"{target}{r}": True
                                            for r in range(4, 4 + len(plan))}
    assert filled["Measures"]["protection"]["protected"] is True
    assert typed[-1]["refusedTyping"] == [
        f"The cell Measures!{target}4 is locked: the sheet is protected."]
    assert got_plan["pane"]["fetched"][0] == (f"FY2027 plan of DOT, Mid-Year Update: 4 "
                                              f"services, {len(plan)} measures.")
    assert got_plan["pane"]["status"] == "Your plan is filled in."

    # 2. Validate, Submit the update, list the submissions, Validate again.
    assert validated["pane"]["status"] == "The plan passed every check.", validated["pane"]
    receipt = submitted["pane"]["receipt"]
    assert not receipt["hidden"] and receipt["lines"][0] == "Submitted: FY2027 plan of DOT"
    [update] = [s for s in list_submissions(office.store)
                if s.agency == "DOT" and s.stage == "Mid-Year Update"]
    assert receipt["lines"][2] == f"Fingerprint (SHA-256): {update.sha256}"
    assert listed["pane"]["submissionsStatus"].startswith("2 FY2027 submission(s) of DOT")
    newest, oldest = listed["pane"]["submissions"]
    assert newest.split(" · ")[1:] == ["Mid-Year Update", f"acceptedFingerprint: "
                                       f"{update.sha256}Download the stored copy"]
    assert oldest.split(" · ")[1] == "Plan"
    assert again["pane"]["receipt"] == receipt      # the receipt survives the next click

    # 3. The office syncs from the store: the consolidated plan holds the typed actuals, the
    #    same as syncing the update file itself.
    synced, from_file = tmp_path / "synced.xlsx", tmp_path / "from-file.xlsx"
    result = CliRunner().invoke(main, ["sync", str(office.citywide), "--store", str(office.store),
                                       "-o", str(synced)])
    assert result.exit_code == 0, result.output
    got = measures(synced, "DOT")
    for mid, m in measures(MIDYEAR).items():
        assert [got[mid][label] for label in TYPED] == [m[label] for label in TYPED], mid
    assert CliRunner().invoke(main, ["sync", str(office.citywide), str(MIDYEAR), "-o",
                                     str(from_file)]).exit_code == 0
    assert measures(synced) == measures(from_file)


def test_a_new_plan_year_offers_last_years_measures_rolled_forward(node, office, tmp_path):  # noqa: F811
    """No FY2028 plan of OPI in the store: Get my plan on the FY2028 template rolls its FY2027
    plan forward, as `template build --from` does, with the targets open."""
    built = tmp_path / "built"
    assert CliRunner().invoke(main, ["template", "build", "-y", "2028", "--agency", "OPI",
                                     "--from", str(office.citywide), "-o", str(built)]
                              ).exit_code == 0
    [rolled] = built.glob("*.xlsx")
    got = run_client(node, office, tmp_path, workbook_spec(ROOT / "templates" /
                                                           "plan-template-fy2028.xlsx"),
                     ["ribbon:pv-get-plan"], token=TOKENS["OPI"])
    [step] = got["steps"]
    rows = {s["name"]: s for s in step["workbook"]["sheets"]}["Measures"]["values"]
    expected = list(openpyxl.load_workbook(rolled)["Measures"].iter_rows(values_only=True))
    width = len(expected[2])
    as_pane = [[None if v == "" else v for v in r[:width]] for r in rows[3:] if r[0]]
    assert as_pane == [list(r) for r in expected[3:] if r[0]]
    assert step["pane"]["fetched"][0].endswith("of the FY2027 plan, rolled forward. Set each "
                                               "target.")
    assert {s["name"]: s for s in step["workbook"]["sheets"]}["Measures"]["locked"] != {} and all(
        v is False for v in {s["name"]: s for s in step["workbook"]["sheets"]}["Measures"]
        ["locked"].values())


def test_an_agency_token_gets_only_its_own_plan(node, office, tmp_path):  # noqa: F811
    spec = workbook_spec(shutil.copy(office.home / "plans" / "dot-plan-fy2027.xlsx",
                                     tmp_path / "dot.xlsx"))
    got = run_client(node, office, tmp_path, spec, ["ribbon:pv-get-plan"], token=TOKENS["OPI"])
    [step] = got["steps"]
    assert [r["status"] for r in step["requests"] if "custom-scripts-call" in r["path"]] == [403]
    assert {s["name"]: s for s in step["workbook"]["sheets"]}["Measures"]["values"] == \
        {s["name"]: s for s in got["page"]["workbook"]["sheets"]}["Measures"]["values"]


def test_the_office_token_chooses_the_agency_by_its_code_in_the_workbook(node, office, tmp_path):  # noqa: F811
    spec = workbook_spec(TEMPLATE)
    got = run_client(node, office, tmp_path, spec,
                     ["ribbon:pv-get-plan", "type:Agency!B4=BCFD", "ribbon:pv-get-plan"],
                     token=OFFICE)
    unnamed, _, named = got["steps"]
    assert [r["status"] for r in unnamed["requests"] if "custom-scripts-call" in r["path"]] == [400]
    assert unnamed["pane"]["fetched"] is None
    assert named["pane"]["fetched"][0].startswith("FY2027 plan of BCFD, Mid-Year Update:")
    rows = {s["name"]: s for s in named["workbook"]["sheets"]}["Measures"]["values"]
    assert [r[0] for r in rows[3:] if r[0]] == list(
        measures(office.home / "plans" / "bcfd-plan-fy2027.xlsx"))
