"""Records already published (version 1, written by the previous release: no ``close``, no
``audit``, the receipt key not in the manifest) stay verifiable by the new ``ballot verify``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ballot.cli import main
from ballot.tally.record import RECORD_VERSION_1, load_record
from ballot.tally.verify import verify_record

V1 = Path(__file__).parent / "data" / "record_v1.json"


def test_a_version_1_record_still_verifies():
    record = load_record(V1)
    assert record["version"] == RECORD_VERSION_1 and "close" not in record
    assert "receipt_key" not in record["manifest"]
    report = verify_record(record, workers=1, data=V1.read_bytes())
    assert report.ok, report.first_failure
    keys = [c.key for c in report.checks]
    assert "format" in keys and "close" not in keys and "receipt_key" not in keys
    result = CliRunner().invoke(main, ["verify", str(V1), "--workers", "1"])
    assert result.exit_code == 0, result.output


def test_a_version_1_record_altered_still_fails(tmp_path):
    text = V1.read_text(encoding="utf-8").replace('"present":4', '"present":3', 1)
    assert text != V1.read_text(encoding="utf-8")
    bad = tmp_path / "v1.json"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", str(bad), "--workers", "1"])
    assert result.exit_code == 1, result.output


def test_a_non_canonical_record_file_fails_the_format_check(tmp_path):
    import json

    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(V1.read_text()), indent=1), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", str(pretty), "--workers", "1"])
    assert result.exit_code == 1 and "canonical JSON" in result.output
