"""Next free IP follows the prefix's current rules, not a stale copy in the session.

The allocator reads the prefix once with its lock; a pool flag cleared elsewhere after
the session loaded the prefix must still keep the network address out (both databases).
"""

from __future__ import annotations

from inventory.ipam import allocation, prefixes
from inventory.models import Prefix
from simpul.audit import Actor
from simpul.db import Database


def test_allocation_follows_a_pool_flag_changed_since_loading(db: Database,
                                                              actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.71.0.0/30", is_pool=True).id
    stale = db.new_session(write=True)
    try:
        loaded = stale.get(Prefix, pid)  # loaded, then changed elsewhere
        assert loaded is not None and loaded.is_pool
        stale.commit()
        with db.session() as s:
            prefixes.update_prefix(s, actor, pid, is_pool=False)
        got = allocation.allocate_next_ip(stale, actor, pid)
        stale.commit()
    finally:
        stale.close()
    assert got[0].address == "10.71.0.1/30"  # not the network address of a non-pool
    assert loaded.is_pool is False
