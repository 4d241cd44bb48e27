"""Open Referral HSDS 3.0 in and out: a tabular package (CSV files + datapackage.json) or HSDS JSON.

Export writes the directory as HSDS 3.0 tables (organizations, services, phones, service_areas, taxonomies,
taxonomy_terms, attributes) with UUIDs derived from our ids, so the same data always gets the same ids.
What HSDS has no field for travels in `x_` extension columns, which other tools ignore: the provider's
printed form of a number (`x_display`), provenance (`x_source`, and `x_assured_date` on organizations),
text instructions, the structured service area, and our own ids. With them an export imports back exactly.

Import reads such a package, or one made by another HSDS tool, into `categories.yaml` and `resources.yaml`
(the data files stay the one source of truth; `helpline reload` then loads them). Numbers are normalised to
E.164 with `phonenumbers`, service areas are read from the extension columns or from their names ("Volusia
County, FL", "Florida", "United States"), and every record must say where its facts came from (or
`--source-url` must).
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import phonenumbers
from ruamel.yaml import YAML

from bot.core.places import US_STATES
from bot.storage.data_files import CATEGORIES_FILE, RESOURCES_FILE, STATE_FIPS, Dataset

NAMESPACE = uuid.UUID("3f0c9a8e-6f0b-4d8e-9a57-3c1b5d0e7a21")
TAXONOMY_ID = "helpline-categories"
NATIONAL_NAMES = {"united states", "usa", "us", "national", "nationwide", "united states of america"}
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COUNTY = re.compile(r"^(?P<county>.+?)\s*,\s*(?P<state>[A-Za-z .]+)$")

TABLES: dict[str, tuple[str, list[str]]] = {
    "organization": (
        "organizations.csv",
        ["id", "name", "description", "website", "x_id", "x_source", "x_assured_date"],
    ),
    "service": (
        "services.csv",
        [
            "id",
            "organization_id",
            "name",
            "description",
            "url",
            "status",
            "assured_date",
            "x_id",
            "x_source",
            "x_text_instructions",
        ],
    ),
    "phone": ("phones.csv", ["id", "service_id", "number", "type", "description", "x_display"]),
    "service_area": (
        "service_areas.csv",
        [
            "id",
            "service_id",
            "name",
            "description",
            "extent_type",
            "x_extent",
            "x_state",
            "x_county",
            "x_fips",
        ],
    ),
    "taxonomy": ("taxonomies.csv", ["id", "name", "description", "uri", "version"]),
    "taxonomy_term": ("taxonomy_terms.csv", ["id", "code", "name", "description", "taxonomy", "taxonomy_id"]),
    "attribute": (
        "attributes.csv",
        ["id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value", "label"],
    ),
}


class ImportProblem(ValueError):
    """What makes a package impossible to import, each as `file:row: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _id(kind: str, slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{slug}"))


# -- export ---------------------------------------------------------------------------------------------------


def to_tables(dataset: Dataset) -> dict[str, list[dict[str, str]]]:
    """The dataset as HSDS 3.0 rows, table by table."""
    t: dict[str, list[dict[str, str]]] = {name: [] for name in TABLES}
    t["taxonomy"].append(
        {
            "id": _id("taxonomy", TAXONOMY_ID),
            "name": "Helpline categories",
            "description": "The helpline's own categories (data/categories.yaml)",
            "uri": "",
            "version": "1",
        }
    )
    for c in dataset.categories:
        t["taxonomy_term"].append(
            {
                "id": _id("taxonomy_term", c.code),
                "code": c.code,
                "name": c.name,
                "description": c.name,
                "taxonomy": "Helpline categories",
                "taxonomy_id": _id("taxonomy", TAXONOMY_ID),
            }
        )
    for org in dataset.organizations:
        t["organization"].append(
            {
                "id": _id("organization", org.id),
                "name": org.name,
                "description": org.description or "",
                "website": org.website or "",
                "x_id": org.id,
                "x_source": org.source,
                "x_assured_date": org.assured_date.isoformat(),
            }
        )
        for s in org.services:
            sid = _id("service", s.id)
            t["service"].append(
                {
                    "id": sid,
                    "organization_id": _id("organization", org.id),
                    "name": s.name,
                    "description": s.description or "",
                    "url": s.url or "",
                    "status": s.status,
                    "assured_date": s.assured_date.isoformat(),
                    "x_id": s.id,
                    "x_source": s.source,
                    "x_text_instructions": s.text_instructions or "",
                }
            )
            for i, p in enumerate(s.phones):
                t["phone"].append(
                    {
                        "id": _id("phone", f"{s.id}:{i}"),
                        "service_id": sid,
                        "number": p.number,
                        "type": p.type,
                        "description": "",
                        "x_display": p.display,
                    }
                )
            for i, a in enumerate(s.service_areas):
                name = {"national": "United States", "state": a.state or ""}.get(a.extent, f"{a.county}, {a.state}")
                t["service_area"].append(
                    {
                        "id": _id("service_area", f"{s.id}:{i}"),
                        "service_id": sid,
                        "name": name,
                        "description": "",
                        "extent_type": "text",
                        "x_extent": a.extent,
                        "x_state": a.state or "",
                        "x_county": a.county or "",
                        "x_fips": a.fips or "",
                    }
                )
            for code in s.categories:
                t["attribute"].append(
                    {
                        "id": _id("attribute", f"{s.id}:{code}"),
                        "link_id": sid,
                        "link_type": "category",
                        "link_entity": "service",
                        "taxonomy_term_id": _id("taxonomy_term", code),
                        "value": "",
                        "label": "",
                    }
                )
    return t


def export_package(dataset: Dataset, folder: Path) -> list[Path]:
    """Write the CSV files and datapackage.json into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = to_tables(dataset)
    written = []
    resources = []
    for name, (filename, columns) in TABLES.items():
        path = folder / filename
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(tables[name])
        written.append(path)
        resources.append(
            {
                "name": name,
                "path": filename,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": c, "type": "date" if c.endswith("assured_date") else "string"} for c in columns
                    ],
                    "primaryKey": "id",
                },
            }
        )
    package = {
        "name": "helpline-directory",
        "title": "Helpline resource directory",
        "profile": "tabular-data-package",
        "description": "Open Referral HSDS 3.0 tables; x_ columns are this helpline's extensions.",
        "version": dataset.content_hash[:12],
        "resources": resources,
    }
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    return [*written, path]


def to_json(dataset: Dataset) -> dict[str, Any]:
    """The dataset as an HSDS 3.0 service list: each service with its organization, phones, areas and terms."""
    t = to_tables(dataset)
    orgs = {o["id"]: o for o in t["organization"]}
    terms = {term["id"]: term for term in t["taxonomy_term"]}
    by_service: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for table in ("phone", "service_area", "attribute"):
        for row in t[table]:
            by_service[row.get("service_id") or row["link_id"]][table].append(row)
    contents = []
    for s in t["service"]:
        rows = by_service[s["id"]]
        contents.append(
            {
                **s,
                "organization": orgs[s["organization_id"]],
                "phones": rows["phone"],
                "service_areas": rows["service_area"],
                "attributes": [{**a, "taxonomy_term": terms[a["taxonomy_term_id"]]} for a in rows["attribute"]],
            }
        )
    return {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }


def export_json(dataset: Dataset, path: Path) -> None:
    """Write HSDS JSON (a one-page service list)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(dataset), indent=2) + "\n", encoding="utf-8")


# -- import ---------------------------------------------------------------------------------------------------


@dataclass
class _Tables:
    rows: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=lambda: defaultdict(list))


def read_package(source: Path) -> _Tables:
    """Rows of a tabular package (folder with datapackage.json or the standard file names) or HSDS JSON."""
    tables = _Tables()
    if source.is_dir():
        files = {name: source / filename for name, (filename, _) in TABLES.items()}
        package = source / "datapackage.json"
        if package.exists():
            for res in json.loads(package.read_text(encoding="utf-8")).get("resources", []):
                if res.get("name") in TABLES and res.get("path"):
                    files[res["name"]] = source / str(res["path"])
        for name, path in files.items():
            if path.exists():
                with path.open(newline="", encoding="utf-8-sig") as f:
                    for i, row in enumerate(csv.DictReader(f), 2):
                        tables.rows[name].append((f"{path}:{i}", {k: (v or "").strip() for k, v in row.items() if k}))
        return tables
    data = json.loads(source.read_text(encoding="utf-8"))
    items: Any = data.get("contents", data) if isinstance(data, dict) else data
    if isinstance(items, dict):
        items = [items]
    for n, item in enumerate(items, 1):
        where = f"{source}:item {n}"
        if "services" in item and "organization" not in item:  # an organization with its services
            org, services = item, item.get("services") or []
        else:  # a service with its organization
            org, services = item.get("organization") or {}, [item]
        if org:
            tables.rows["organization"].append((where, _flat(org)))
        for s in services or []:
            s_row = _flat(s)
            s_row.setdefault("organization_id", str(org.get("id", "")))
            tables.rows["service"].append((where, s_row))
            for p in s.get("phones") or []:
                tables.rows["phone"].append((where, {**_flat(p), "service_id": s_row.get("id", "")}))
            for a in s.get("service_areas") or []:
                tables.rows["service_area"].append((where, {**_flat(a), "service_id": s_row.get("id", "")}))
            for a in s.get("attributes") or []:
                term = a.get("taxonomy_term") or {}
                if term:
                    tables.rows["taxonomy_term"].append((where, _flat(term)))
                tables.rows["attribute"].append(
                    (
                        where,
                        {
                            **_flat(a),
                            "link_id": s_row.get("id", ""),
                            "taxonomy_term_id": str(a.get("taxonomy_term_id") or term.get("id", "")),
                        },
                    )
                )
    return tables


def _flat(obj: dict[str, Any]) -> dict[str, str]:
    return {k: ("" if v is None else str(v)).strip() for k, v in obj.items() if not isinstance(v, dict | list)}


def import_into(
    source: Path, target: Path, *, source_url: str | None = None, assured_date: date | None = None, force: bool = False
) -> list[Path]:
    """Turn an HSDS package into `categories.yaml` and `resources.yaml` in `target`."""
    out = [target / CATEGORIES_FILE, target / RESOURCES_FILE]
    existing = [p for p in out if p.exists()]
    if existing and not force:
        raise ImportProblem([f"{existing[0]}:1: already exists; pass --force to replace it (or --into another folder)"])
    categories, organizations = convert(read_package(source), source_url=source_url, assured_date=assured_date)
    target.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *_: True  # shared dates would otherwise become &id001 anchors
    with out[0].open("w", encoding="utf-8") as f:
        f.write(f"# Imported from {source.name} (Open Referral HSDS). Category code -> English name.\n")
        yaml.dump(categories, f)
    with out[1].open("w", encoding="utf-8") as f:
        f.write(f"# Imported from {source.name} (Open Referral HSDS). Format: see data/README.md.\n")
        yaml.dump(organizations, f)
    return out


def convert(
    tables: _Tables, *, source_url: str | None = None, assured_date: date | None = None
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """HSDS rows -> (categories, organizations) in the shape of our data files."""
    problems: list[str] = []
    rows = tables.rows
    terms = {r["id"]: r for _, r in rows["taxonomy_term"] if r.get("id")}
    categories: dict[str, str] = {}
    term_code: dict[str, str] = {}
    for term_id, r in terms.items():
        code = _slugify(r.get("code") or r.get("name") or term_id)
        term_code[term_id] = code
        categories.setdefault(code, r.get("name") or code)
    children: dict[str, dict[str, list[tuple[str, dict[str, str]]]]] = defaultdict(lambda: defaultdict(list))
    for table in ("phone", "service_area"):
        for where, r in rows[table]:
            children[r.get("service_id", "")][table].append((where, r))
    for where, r in rows["attribute"]:
        if r.get("link_entity", "service") in ("", "service"):
            children[r.get("link_id", "")]["attribute"].append((where, r))
    orgs: dict[str, dict[str, Any]] = {}
    org_slugs: set[str] = set()
    org_services: dict[str, list[dict[str, Any]]] = defaultdict(list)
    org_rows = {r.get("id", ""): (where, r) for where, r in rows["organization"]}
    service_slugs: set[str] = set()
    for where, s in rows["service"]:
        org_id = s.get("organization_id", "")
        if org_id not in org_rows:
            problems.append(
                f"{where}: service {s.get('name')!r} names organization {org_id!r}, which is not in the package"
            )
            continue
        service = _service(
            where, s, children[s.get("id", "")], term_code, service_slugs, source_url, assured_date, problems
        )
        if service is not None:
            org_services[org_id].append(service)
    for org_id, (where, o) in org_rows.items():
        services = org_services.get(org_id)
        if not services:
            continue
        slug = _unique(
            o["x_id"] if _SLUG.match(o.get("x_id", "")) else _slugify(o.get("name", "") or org_id), org_slugs
        )
        source = o.get("x_source") or source_url or o.get("website")
        assured = _date(o.get("x_assured_date")) or min(s["assured_date"] for s in services)
        if not source:
            problems.append(
                f"{where}: organization {o.get('name')!r} says nothing of where its facts came from; pass --source-url"
            )
            continue
        org: dict[str, Any] = {"id": slug, "name": o.get("name") or slug}
        if o.get("website"):
            org["website"] = o["website"]
        if o.get("description"):
            org["description"] = o["description"]
        org["source"] = source
        org["assured_date"] = assured
        org["services"] = services
        orgs[slug] = org
    for code in {c for org in orgs.values() for s in org["services"] for c in s["categories"]} - set(categories):
        categories[code] = code.replace("-", " ").capitalize()
    if problems:
        raise ImportProblem(problems)
    return categories, list(orgs.values())


def _service(
    where: str,
    s: dict[str, str],
    kids: dict[str, list[tuple[str, dict[str, str]]]],
    term_code: dict[str, str],
    slugs: set[str],
    source_url: str | None,
    assured_date: date | None,
    problems: list[str],
) -> dict[str, Any] | None:
    name = s.get("name", "")
    slug = _unique(s["x_id"] if _SLUG.match(s.get("x_id", "")) else _slugify(name or s.get("id", "service")), slugs)
    assured = _date(s.get("assured_date")) or assured_date
    if assured is None:
        problems.append(f"{where}: service {name!r} has no assured_date; pass --assured-date")
        return None
    codes = []
    for a_where, a in kids["attribute"]:
        code = term_code.get(a.get("taxonomy_term_id", ""))
        if code is None:
            problems.append(
                f"{a_where}: attribute of {name!r} names taxonomy term {a.get('taxonomy_term_id')!r}, "
                "which is not in the package"
            )
        elif code not in codes:
            codes.append(code)
    if not codes:
        problems.append(f"{where}: service {name!r} has no taxonomy term, so no menu would ever offer it")
        return None
    service: dict[str, Any] = {"id": slug, "name": name}
    if s.get("description"):
        service["description"] = s["description"]
    service["status"] = "active" if s.get("status", "active").lower() == "active" else "inactive"
    service["categories"] = codes
    phones = [p for p in (_phone(p_where, p, name, problems) for p_where, p in kids["phone"]) if p]
    if phones:
        service["phones"] = phones
    if s.get("x_text_instructions"):
        service["text_instructions"] = s["x_text_instructions"]
    if s.get("url"):
        service["url"] = s["url"]
    areas = [a for a in (_area(a_where, a, name, problems) for a_where, a in kids["service_area"]) if a]
    if not areas:
        problems.append(f"{where}: service {name!r} has no service area we can read")
        return None
    service["service_areas"] = areas
    if s.get("x_source"):
        service["source"] = s["x_source"]
    elif source_url:
        service["source"] = source_url
    service["assured_date"] = assured
    return service


def _phone(where: str, p: dict[str, str], owner: str, problems: list[str]) -> dict[str, str] | None:
    raw = p.get("number", "")
    kind = {"text": "text", "voice": "voice", "cell": "voice", "": "voice"}.get(p.get("type", "").lower())
    if kind is None:
        return None  # fax, pager, video: no use on a helpline
    if re.fullmatch(r"[0-9]{3,6}", raw):
        return {"number": raw, "display": p.get("x_display") or raw, "type": kind}
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as exc:
        problems.append(f"{where}: phone {raw!r} of {owner!r} is not a phone number: {exc}")
        return None
    if not phonenumbers.is_valid_number(parsed):
        problems.append(f"{where}: phone {raw!r} of {owner!r} is not a valid number")
        return None
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    display = p.get("x_display") or (
        raw if raw != number else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return {"number": number, "display": display, "type": kind}


def _area(where: str, a: dict[str, str], owner: str, problems: list[str]) -> dict[str, Any] | None:
    extent = a.get("x_extent")
    if extent == "national":
        return {"national": True}
    if extent == "state" and a.get("x_state"):
        return {"state": a["x_state"]}
    if extent == "county" and a.get("x_state") and a.get("x_county"):
        area: dict[str, Any] = {"county": a["x_county"], "state": a["x_state"]}
        if a.get("x_fips"):
            area["fips"] = a["x_fips"]
        return area
    text = (a.get("name") or a.get("description") or a.get("extent") or "").strip()
    if text.lower() in NATIONAL_NAMES:
        return {"national": True}
    state = _state(text)
    if state:
        return {"state": state}
    match = _COUNTY.match(text)
    if match and _state(match["state"]):
        return {"county": match["county"].strip(), "state": _state(match["state"])}
    problems.append(
        f"{where}: service area {text!r} of {owner!r} is not a county ('Volusia County, FL'), "
        "a state or 'United States'"
    )
    return None


def _state(text: str) -> str | None:
    t = text.strip().rstrip(".")
    if t.upper() in STATE_FIPS:
        return t.upper()
    return US_STATES.get(t.lower())


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "item"


def _unique(slug: str, taken: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate
