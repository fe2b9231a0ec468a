"""The Linux layer's candidate format: parsing, diffs, replace-mode manifest (pure)."""

from __future__ import annotations

import pytest

from playbooks.napalm_linux.bundle import (
    Bundle,
    BundleError,
    FileSection,
    FileState,
    dump,
    next_manifest,
    parse,
    plan,
    replaced_paths,
)

CANDIDATE = """### file /etc/swanctl/conf.d/simpul-vpn.conf mode=0640
connections {
  dc { }
}
### absent /etc/swanctl/conf.d/old.conf
### run swanctl --load-all
### run ip link set xfrm-dc up
"""


def test_parse_sections_in_order() -> None:
    bundle = parse(CANDIDATE)
    assert bundle.files == (FileSection("/etc/swanctl/conf.d/simpul-vpn.conf",
                                        "connections {\n  dc { }\n}\n", 0o640),)
    assert bundle.absent == ("/etc/swanctl/conf.d/old.conf",)
    assert bundle.run == ("swanctl --load-all", "ip link set xfrm-dc up")
    assert parse(dump(bundle)) == bundle


def test_default_mode_and_empty_file() -> None:
    bundle = parse("### file /etc/a\n### file /etc/b\nx\n")
    assert bundle.files == (FileSection("/etc/a", "", 0o644), FileSection("/etc/b", "x\n"))


@pytest.mark.parametrize(("text", "message"), [
    ("hello\n### file /etc/a\n", "text outside a section"),
    ("### copy /etc/a\n", "unknown section"),
    ("### file etc/a\n", "bad path"),
    ("### file /etc/../shadow\n", "bad path"),
    ("### file /etc/a b\n", "bad mode"),
    ("### file /etc/a mode=999\n", "bad mode"),
    ("### run\n", "without a command"),
    ("### file /etc/a\n### absent /etc/a\n", "managed twice"),
])
def test_bad_candidates_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        parse(text)


def test_diff_shows_changed_files_and_run_lines_only() -> None:
    bundle = parse(CANDIDATE)
    current = {
        "/etc/swanctl/conf.d/simpul-vpn.conf": FileState(
            "/etc/swanctl/conf.d/simpul-vpn.conf", "connections {\n}\n", 0o640),
        "/etc/swanctl/conf.d/old.conf": FileState("/etc/swanctl/conf.d/old.conf", "x\n", 0o644),
    }
    result = plan(bundle, current)
    assert result.diff() == (
        "--- a/etc/swanctl/conf.d/simpul-vpn.conf\n"
        "+++ b/etc/swanctl/conf.d/simpul-vpn.conf\n"
        "@@ -1,2 +1,3 @@\n"
        " connections {\n"
        "+  dc { }\n"
        " }\n"
        "--- a/etc/swanctl/conf.d/old.conf\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-x\n"
        "### run swanctl --load-all\n"
        "### run ip link set xfrm-dc up\n")


def test_no_change_is_an_empty_diff() -> None:
    bundle = parse("### file /etc/a mode=0600\nx\n### absent /etc/b\n### run true\n")
    current = {"/etc/a": FileState("/etc/a", "x\n", 0o600), "/etc/b": FileState("/etc/b", None)}
    result = plan(bundle, current)
    assert result.changed == [] and result.diff() == ""


def test_new_file_and_mode_change() -> None:
    bundle = parse("### file /etc/a mode=0600\nx\n### file /etc/b\ny\n")
    current = {"/etc/a": FileState("/etc/a", "x\n", 0o644), "/etc/b": FileState("/etc/b", None)}
    diff = plan(bundle, current).diff()
    assert "--- a/etc/a\n+++ b/etc/a\nmode 0644 -> 0600 /etc/a\n" in diff
    assert "--- /dev/null\n+++ b/etc/b\n@@ -0,0 +1 @@\n+y\n" in diff


def test_replace_removes_simpuls_other_files_in_the_same_directories() -> None:
    bundle = parse("### file /etc/hostapd/eth2.conf\nx\n")
    manifest = ["/etc/hostapd/eth3.conf", "/etc/hostapd/eth2.conf", "/etc/swanctl/a.conf"]
    assert replaced_paths(bundle, manifest) == ["/etc/hostapd/eth3.conf"]
    current = {"/etc/hostapd/eth2.conf": FileState("/etc/hostapd/eth2.conf", None),
               "/etc/hostapd/eth3.conf": FileState("/etc/hostapd/eth3.conf", "y\n", 0o644)}
    result = plan(bundle, current, ["/etc/hostapd/eth3.conf"])
    assert next_manifest(manifest, result) == ["/etc/hostapd/eth2.conf", "/etc/swanctl/a.conf"]


def test_empty_bundle() -> None:
    assert parse("\n") == Bundle()
