"""Explain and related documents."""

from __future__ import annotations

import json

from conftest import make_client
from reader_corpus import reader_index, rix  # noqa: F401  (fixtures)
from search.cli import main as cli_main


# ---------------------------------------------------------------------------
# Explain


def test_explain_shows_every_step(rix):
    info = rix.explain('牡丹jiang 軟體 "古都" -重庆')
    assert info["normalised"] == '牡丹jiang 软体 "古都" -重庆'
    assert info["parsed"] == {"words": ["牡丹jiang", "軟體"], "phrases": ["古都"], "excluded": ["重庆"]}
    assert [t["word"] for t in info["tokens"]["軟體"]] == ["软体"]
    assert info["tokens"]["牡丹jiang"][0] == {"word": "牡丹", "start": 0, "end": 2, "position": 0,
                                               "subword": False, "stop": False}
    kinds = {(e["kind"], e["from"]): e["to"] for e in info["expansions"]}
    assert kinds[("pinyin", "牡丹jiang")] == ["牡丹江"] and kinds[("variant", "軟體")] == ["软件"]
    assert "body:牡丹江" in info["whoosh_query"] and "ANDNOT" in info["whoosh_query"]
    assert {"牡丹江", "软件", "古都"} <= set(info["highlight"])
    assert info["grams"]["古都"] == ["古都"]
    assert info["matches"] == rix.search('牡丹jiang 軟體 "古都" -重庆').total
    pin = {p["token"]: p for p in info["pinyin"]}
    assert pin["牡丹jiang"]["reads_as"] == "mixed"
    assert pin["軟體"]["readings"] == {"软体": "ruan ti"}


def test_explain_a_document(rix):
    doc = rix.explain("洛阳 牡丹", doc_id="trad/luoyang")["document"]
    assert doc["found"] and doc["matches"] and doc["rank"] >= 1 and doc["score"] > 0
    matched = [p["query"] for p in doc["parts"] if p["matches"]]
    assert "body:洛阳" in matched and "body:牡丹" in matched
    assert abs(sum(p["score"] for p in doc["parts"] if p["matches"]) - doc["score"]) < 0.01
    # Why a document is not there: a required phrase it lacks, an exclusion it has.
    doc = rix.explain('"古都" 洛阳', doc_id="trad/luoyang")["document"]
    assert not doc["matches"] and doc["missing_phrases"] == ["古都"]
    doc = rix.explain("洛阳 -牡丹", doc_id="trad/luoyang")["document"]
    assert not doc["matches"] and doc["excluded_by"] == ["牡丹"]
    assert rix.explain("洛阳", doc_id="nope")["document"] == {"id": "nope", "found": False}


def test_explain_pinyin_and_english(rix):
    info = rix.explain("luoyang call")
    pin = {p["token"]: p for p in info["pinyin"]}
    assert pin["luoyang"]["reads_as"] == "syllables" and pin["luoyang"]["syllables"] == ["luo", "yang"]
    assert pin["call"]["reads_as"] is None and pin["call"]["in_index_as_typed"]
    assert [e["to"] for e in info["expansions"]] == [["洛阳"]]


def test_explain_cli(reader_index, capsys):
    assert cli_main(["explain", "牡丹jiang", "--index", str(reader_index), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["expansions"][0]["to"] == ["牡丹江"]
    assert cli_main(["explain", "落阳 牡丹", "--index", str(reader_index),
                     "--doc", "trad/luoyang"]) == 0
    out = capsys.readouterr().out
    assert "did you mean: 洛阳 牡丹" in out and "whoosh:" in out and "matches" in out
    assert "body:牡丹" in out


def test_explain_api(reader_index):
    client = make_client(reader_index)
    data = client.get("/api/explain?q=luoyang&doc=simp/luoyang").get_json()
    assert data["expansions"][0]["to"] == ["洛阳"] and data["document"]["matches"]
    assert client.get("/api/explain?q=" + "x" * 2000).status_code == 400


def test_query_cli_shows_corrections_and_scripts(reader_index, capsys):
    assert cli_main(["query", "落阳", "--index", str(reader_index)]) == 0
    assert "did you mean: 洛阳" in capsys.readouterr().out
    assert cli_main(["query", "软件", "--index", str(reader_index), "--script", "trad"]) == 0
    out = capsys.readouterr().out
    assert "also searched: 软件 → 软体 (variant)" in out and "軟件" in out


# ---------------------------------------------------------------------------
# Related documents


def test_related_documents(rix):
    related = rix.related("simp/luoyang")
    found = [r["id"] for r in related]
    assert "simp/luoyang" not in found
    assert found[0] in {"simp/luoyang-travel", "trad/luoyang"}
    assert set(found[:2]) == {"simp/luoyang-travel", "trad/luoyang"}
    assert "洛阳" in related[0]["shared"]
    assert rix.related("no-such-doc") is None
    assert len(rix.related("simp/luoyang", limit=1)) == 1


def test_related_documents_in_both_scripts(rix):
    # A traditional document's relatives include simplified ones and the reverse.
    assert "simp/chongqing" in [r["id"] for r in rix.related("trad/chongqing")]
    assert "trad/guiyang" in [r["id"] for r in rix.related("simp/guiyang")]


def test_related_on_the_document_page_and_api(reader_index):
    from test_webui import get_page, params
    client = make_client(reader_index)
    page = get_page(client, "/doc/simp/luoyang?q=牡丹&script=trad")
    links = page.links_with("related-link")
    assert links and all("/doc/simp/luoyang?" not in a["href"] for a in links)
    assert all(params(a["href"])["script"] == ["trad"] for a in links)
    assert any("洛陽" in a["text"] for a in links)
    data = client.get("/api/related/simp/luoyang").get_json()
    assert data[0]["id"] in {"simp/luoyang-travel", "trad/luoyang"}
    assert client.get("/api/related?id=simp/luoyang").get_json() == data
    assert client.get("/api/related/nope").status_code == 404
