"""The FRR config model behind compare/commit/rollback: contexts, deltas, "no" forms."""

from __future__ import annotations

from playbooks.napalm_frr.config import Change, FrrConfig, commands, delta, no_form, render_diff

RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname core1
service integrated-vtysh-config
!
interface eth1
 description to core2:eth1
 ip address 192.0.2.0/31
 ip ospf area 0
 ip ospf message-digest-key 1 md5 secret1
exit
!
router bgp 65001
 neighbor 192.0.2.1 remote-as 64500
 !
 address-family ipv4 unicast
  neighbor 192.0.2.1 route-map IN in
 exit-address-family
exit
!
route-map IN permit 10
exit
!
line vty
exit
!
end
"""


def test_parse_splits_contexts_and_drops_banners() -> None:
    config = FrrConfig.parse(RUNNING)
    assert config.contexts == {
        (): ["hostname core1", "service integrated-vtysh-config"],
        ("interface eth1",): ["description to core2:eth1", "ip address 192.0.2.0/31",
                              "ip ospf area 0", "ip ospf message-digest-key 1 md5 secret1"],
        ("router bgp 65001",): ["neighbor 192.0.2.1 remote-as 64500"],
        ("router bgp 65001", "address-family ipv4 unicast"): ["neighbor 192.0.2.1 route-map IN in"],
        ("route-map IN permit 10",): [],
        ("line vty",): [],
    }


def test_text_round_trips() -> None:
    config = FrrConfig.parse(RUNNING)
    assert FrrConfig.parse(config.text()).contexts == config.contexts
    assert config.text().endswith(" exit-address-family\nexit\nroute-map IN permit 10\nexit\n"
                                  "line vty\nexit\n")


def test_merge_adds_only_what_is_missing() -> None:
    candidate = FrrConfig.parse("interface eth1\n ip ospf area 0\n ip ospf passive\nexit\n"
                                "router ospf\n ospf router-id 192.0.2.9\nexit\n")
    changes = delta(FrrConfig.parse(RUNNING), candidate, replace=False)
    assert changes == [
        Change(("interface eth1",), "+", "ip ospf passive", "ip ospf passive"),
        Change(("router ospf",), "+", "ospf router-id 192.0.2.9", "ospf router-id 192.0.2.9"),
    ]
    assert commands(changes) == ["interface eth1", "ip ospf passive", "exit", "router ospf",
                                 "ospf router-id 192.0.2.9", "exit"]
    assert render_diff(changes) == ("  interface eth1\n+  ip ospf passive\n"
                                    "  router ospf\n+  ospf router-id 192.0.2.9\n")


def test_merge_of_what_is_there_is_empty() -> None:
    assert delta(FrrConfig.parse(RUNNING), FrrConfig.parse(RUNNING), replace=False) == []
    assert delta(FrrConfig.parse(RUNNING), FrrConfig.parse(RUNNING), replace=True) == []
    assert render_diff([]) == ""


def test_replace_removes_deletes_first_and_whole_contexts_once() -> None:
    candidate = FrrConfig.parse("hostname core1\nservice integrated-vtysh-config\n"
                                "interface eth1\n description to core2:eth1\n"
                                " ip address 192.0.2.0/31\n ip ospf area 1\nexit\n")
    changes = delta(FrrConfig.parse(RUNNING), candidate, replace=True)
    assert commands(changes) == [
        "interface eth1", "no ip ospf area 0", "no ip ospf message-digest-key 1", "exit",
        "no router bgp 65001", "no route-map IN permit 10",
        "interface eth1", "ip ospf area 1", "exit",
    ]
    # "line vty" and interfaces are never removed as a whole.
    assert not any("line vty" in c or c == "no interface eth1" for c in commands(changes))


def test_new_empty_context_is_created() -> None:
    changes = delta(FrrConfig.parse(RUNNING),
                    FrrConfig.parse("route-map OUT deny 10\nexit\n"), replace=False)
    assert commands(changes) == ["route-map OUT deny 10"]


def test_no_forms() -> None:
    assert no_form("ip ospf message-digest-key 1 md5 secret") == "no ip ospf message-digest-key 1"
    assert no_form("description to x") == "no description"
    assert no_form("no ipv6 forwarding") == "ipv6 forwarding"
    assert no_form("ip route 0.0.0.0/0 192.0.2.1") == "no ip route 0.0.0.0/0 192.0.2.1"
    assert no_form("timers throttle spf 0 50 500") == "no timers throttle spf"
    # "no exec-timeout" would mean "never"; removing a timeout restores FRR's default
    assert no_form("exec-timeout 5 0") == "exec-timeout 10 0"


def test_without_strips_routing() -> None:
    config = FrrConfig.parse(RUNNING).without(contexts=("router ", "route-map "),
                                              lines=("ip ospf",))
    assert config.contexts == {
        (): ["hostname core1", "service integrated-vtysh-config"],
        ("interface eth1",): ["description to core2:eth1", "ip address 192.0.2.0/31"],
        ("line vty",): [],
    }
