"""The alert outbox is written with the batch: new links at or above the threshold only, once per link and
target however often (or by however many writers) the batch is stored, the source's threshold first,
NOTIFY on commit; with alerts off the store does nothing more."""

from __future__ import annotations

import threading

import psycopg
import pytest

from linkwatch.alerts.targets import StorePolicy
from linkwatch.db import runs
from linkwatch.db.store import store_batch
from linkwatch.sources import Source
from tests.utils.alerts import alert_link, alert_page, outbox

HOOK = ("webhook:0000000000000001", "https://hooks.example.invalid/…")
MAIL = ("email:0000000000000002", "mail to analysts@example.invalid")
POLICY = StorePolicy(0.5, (HOOK, MAIL))


def store(conn: psycopg.Connection, pages, policy: StorePolicy | None = POLICY, run_id: int | None = None):
    return store_batch(conn, pages, run_id, alerts=policy)


def test_new_links_at_or_above_the_threshold_are_enqueued_once_per_target(db) -> None:
    page = alert_page("https://forum.example.invalid/t/1", alert_link("LwHigh1Abc", score=0.9, context="hot"),
                      alert_link("LwEdge1Abc", score=0.5), alert_link("LwLow1Abc", score=0.2))
    with psycopg.connect(db, autocommit=True) as conn:
        result = store(conn, [page])
        assert result.alerts == 4
        assert store(conn, [page]).alerts == 0  # the same batch again (a journal replay): nothing more
    rows = outbox(db)
    assert sorted((r["code"], r["target"]) for r in rows) == sorted(
        (code, key) for code in ("LwHigh1Abc", "LwEdge1Abc") for key, _ in (HOOK, MAIL))
    high = next(r for r in rows if r["code"] == "LwHigh1Abc" and r["target"] == HOOK[0])
    assert (high["status"], high["attempts"], high["target_label"]) == ("pending", 0, HOOK[1])
    assert (high["page_url"], high["context"], high["threshold"]) == (page.url, "hot", 0.5)
    assert high["score"] == pytest.approx(0.9)
    assert high["source"] is None


def test_a_known_link_is_never_alerted_even_when_its_score_rises(db) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        store(conn, [alert_page("https://forum.example.invalid/t/1", alert_link("LwOld1Abc", score=0.1))])
        store(conn, [alert_page("https://forum.example.invalid/t/2", alert_link("LwOld1Abc", score=0.95))])
        assert conn.execute("SELECT score FROM links").fetchone()[0] == pytest.approx(0.95)
    assert outbox(db) == []


def test_with_alerts_off_the_store_enqueues_nothing(db) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        page = alert_page("https://forum.example.invalid/t/1", alert_link("LwOff1Abc", score=1))
        result = store(conn, [page], policy=None)
        assert result.alerts == 0
        staged = conn.execute("SELECT to_regclass('pg_temp.lw_stage_new_links')").fetchone()[0]
    assert staged is None  # not even the staging table: alerts off cost the store nothing
    assert outbox(db) == []


@pytest.mark.parametrize(("source_score", "enqueued"), [(0.95, 0), (0.3, 2), (None, 2)])
def test_the_sources_alert_score_wins_over_the_global_one(db, source_score, enqueued) -> None:
    source = Source(name="forum", start_urls=["https://forum.example.invalid/"], alert_score=source_score)
    policy = StorePolicy(0.8 if source_score is not None else 0.5, (HOOK,))
    with psycopg.connect(db, autocommit=True) as conn:
        run_id = runs.start_run(conn, runs.upsert_source(conn, source))
        page = alert_page("https://forum.example.invalid/t/1", alert_link("LwSrc1Abc", score=0.9),
                          alert_link("LwSrc2Abc", score=0.5))
        result = store(conn, [page], policy, run_id)
        # 0.95 alerts neither; 0.3 alerts both (the global 0.8 alone would alert one); unset: global 0.5
        assert result.alerts == enqueued
    assert all(r["source"] == "forum" and r["crawl_run_id"] == run_id for r in outbox(db))


def test_concurrent_writers_of_the_same_new_link_enqueue_one_alert(db) -> None:
    writers = 4
    start = threading.Barrier(writers)
    errors: list[BaseException] = []
    page_sets = [[alert_page(f"https://forum.example.invalid/w{n}/{i}",
                             alert_link(f"LwRace{i}Abc", score=0.9))
                  for i in range(30)] for n in range(writers)]

    def write(n: int) -> None:
        try:
            with psycopg.connect(db, autocommit=True) as conn:
                start.wait(30)
                for page in page_sets[n]:
                    store(conn, [page])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    rows = outbox(db)
    assert len(rows) == 30 * 2  # one per link and target, whichever writer stored the link first
    assert len({(r["link_id"], r["target"]) for r in rows}) == 60


def test_a_batch_with_alerts_notifies_when_it_commits(db) -> None:
    with psycopg.connect(db, autocommit=True) as listener, psycopg.connect(db, autocommit=True) as conn:
        listener.execute("LISTEN linkwatch_alerts")
        store(conn, [alert_page("https://forum.example.invalid/t/1", alert_link("LwQuiet1Abc", score=0.1))])
        conn.execute("NOTIFY linkwatch_alerts, 'marker'")  # delivered in commit order: after any of the batch
        store(conn, [alert_page("https://forum.example.invalid/t/2", alert_link("LwLoud1Abc", score=0.9))])
        heard = list(listener.notifies(timeout=30, stop_after=2))
    # the batch with nothing worth an alert said nothing; the one with an alert spoke when it committed
    assert [(n.channel, n.payload) for n in heard] == [("linkwatch_alerts", "marker"),
                                                       ("linkwatch_alerts", "")]
