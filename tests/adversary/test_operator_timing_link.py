"""The server operator reads every table after a burst of voters and tries to put a name on
each board position by time or by order (docs/threat-model.md, "What the server operator can
and cannot do"). No stored time or id orders the token issuances: invitations carry the minute
voting opened, the same for all; token_issuance has no time and random ids; board entries have
no time; the audit log has no per-member or per-ballot entry while voting is open."""

from __future__ import annotations

import random

from sqlalchemy import DateTime, inspect, select

from ballot.clients.http import Http
from ballot.clients.voter import cast, fetch_election, obtain_token, seal
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.trustee_access import enrol_all
from ballot.store.db import transaction
from ballot.store.models import AuditEntry, Base, Election, Invitation, TokenIssuance
from ballot.store.models import RollEntry as RollRow
from tests.service.test_meeting_flow import server  # noqa: F401 - the fixture
from tests.service.test_second_round import ceremony

SLUG = "cb-gio"
MEMBERS = [(f"G{i:02d}", f"Đảng viên {i}") for i in range(1, 11)]
#: The tables whose rows are written per member or per ballot while voting is open.
PER_VOTER = ("invitations", "token_issuance", "board_entries", "board_checks")


def test_no_stored_time_or_id_orders_token_issuance_against_the_board(server):  # noqa: F811
    meeting, base_url = server
    levels, rules = branch_qd366()
    roll = [RollEntry(rid, name, "official", None) for rid, name in MEMBERS]
    units = [Unit(unit_id=rid, name=name, kind="member", group="đv") for rid, name in MEMBERS[:3]]
    codes = meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                           date="2025-12-20", meeting_kind="branch_members", levels=levels,
                           rules=rules, roll=roll, units=units, trustee_names=["T1", "T2"],
                           threshold=2)
    codes = enrol_all(meeting, SLUG, codes)  # the trustees choose their own codes
    meeting.begin_ceremony(SLUG)
    ceremony(meeting, base_url, SLUG, codes)
    slips = meeting.open_voting(SLUG)

    # A burst: members fetch tokens in one order and cast, each right after, in that order —
    # the worst case: the board's order IS the issuance order.
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    order = [rid for rid, _ in MEMBERS]
    random.Random(7).shuffle(order)
    positions = {}
    for rid in order:
        token, key = obtain_token(http, election, slips[rid])
        ballot, _ = seal(election, token, key, [1, 2, None])
        positions[rid] = cast(http, election, ballot).position
    assert sorted(positions.values()) == list(range(1, len(MEMBERS) + 1))
    meeting.close_voting(SLUG)

    # The operator reads everything.
    with transaction(meeting.factory, read_only=True) as s:
        election_row = s.execute(select(Election).where(Election.slug == SLUG)).scalar_one()
        eid = election_row.id
        roll_of = {r.id: r.roll_id for r in s.execute(
            select(RollRow).where(RollRow.election_id == eid)).scalars()}

        # 1. Every time column of every per-voter table: one value for all rows, to the minute.
        bind = s.get_bind()
        for table in PER_VOTER:
            cols = Base.metadata.tables[table].columns
            timed = [c for c in cols if isinstance(c.type, DateTime) or
                     isinstance(getattr(c.type, "impl", None), DateTime)]
            for col in timed:
                if col.name == "created_at":
                    continue  # written at open, in roll order, before anyone voted
                values = {v for (v,) in s.execute(select(col).where(
                    cols["election_id"] == eid, col.is_not(None)))}
                assert len(values) <= 1, f"{table}.{col.name} tells members apart: {values}"
                for v in values:
                    assert v.second == 0 and v.microsecond == 0, f"{table}.{col.name}: {v}"
            # and the table in the database has no other time column than the model says
            db_cols = {c["name"] for c in inspect(bind).get_columns(table)}
            assert db_cols == set(cols.keys()), (table, db_cols)
        assert "issued_at" not in Base.metadata.tables["token_issuance"].columns
        assert "accepted_at" not in Base.metadata.tables["board_entries"].columns

        redeemed = {r.redeemed_at for r in s.execute(
            select(Invitation).where(Invitation.election_id == eid)).scalars()}
        opened = election_row.opened_at.replace(second=0, microsecond=0)
        assert redeemed == {opened}

        # 2. token_issuance ids: not the order of issuance (nor of the board).
        by_id = [roll_of[t.roll_entry_id] for t in s.execute(
            select(TokenIssuance).where(TokenIssuance.election_id == eid)
            .order_by(TokenIssuance.id)).scalars()]
        assert sorted(by_id) == sorted(order)
        # 10 members: a random order equals the issuance order with probability 1/10!.
        assert by_id != order, "token_issuance ids follow the order of issuance"
        ids = sorted(t.id for t in s.execute(
            select(TokenIssuance).where(TokenIssuance.election_id == eid)).scalars())
        assert ids != list(range(ids[0], ids[0] + len(ids))), "consecutive ids: an order"

        # 3. The audit log: nothing of this election between "open" and "close", so no
        #    sequence interleaves issuances with casts; no roll id or position anywhere.
        audit = list(s.execute(select(AuditEntry).where(AuditEntry.election_id == eid)
                               .order_by(AuditEntry.seq)).scalars())
        actions = [a.action for a in audit]
        i_open, i_close = actions.index("open"), actions.index("close")
        assert i_close == i_open + 1, actions[i_open:i_close + 1]
        everything = " ".join(a.detail_json + a.actor for a in audit)
        for rid, _ in MEMBERS:
            assert rid not in everything
