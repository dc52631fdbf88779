"""Sources file validation: defaults, and errors that name the source and the field."""

from __future__ import annotations

import pytest

from linkwatch.sources import SourcesError, adhoc_source, load_sources, parse_sources

GOOD = """
[[source]]
name = "board-a"
start_urls = ["https://forum.example.test/board?id=1", "https://m.forum.example.test/"]
allow = ["/board", "/thread/\\\\d+"]
deny = ["/logout"]
render = "browser"
max_depth = 3
max_pages = 50
delay = 1.5
concurrency = 2
scroll = 4
wait_for = ".comments"
click = [".more"]
search_urls = ["https://forum.example.test/search?q={keyword}"]
encoding = "euc-kr"
schedule = "*/30 * * * *"
enabled = false

[[source]]
name = "board-b"
start_urls = ["http://other.example.test/"]
"""


def test_full_and_minimal_sources_parse_with_defaults() -> None:
    a, b = parse_sources(GOOD)
    assert a.render == "browser"
    assert a.scroll == 4
    assert a.click == [".more"]
    assert not a.enabled
    assert a.allowed_domains == ["forum.example.test", "m.forum.example.test"]
    assert a.search_requests(["오픈채팅", "a b"]) == [
        "https://forum.example.test/search?q=%EC%98%A4%ED%94%88%EC%B1%84%ED%8C%85",
        "https://forum.example.test/search?q=a%20b",
    ]
    assert b.render == "static"
    assert b.obey_robots is True
    assert b.enabled is True
    assert b.allowed_domains == ["other.example.test"]
    assert b.schedule is None
    assert not b.adhoc


def test_load_sources_reads_a_file(tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert [s.name for s in load_sources(path)] == ["board-a", "board-b"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "x"\nstart_urls = ["ftp://a.test/"]', "source 'x', field 'start_urls': 'ftp://a.test/'"),
        ('name = "x"\nstart_urls = []', "source 'x', field 'start_urls'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nrender = "chrome"', "field 'render'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nallow = ["(["]', "field 'allow': '([' is not a valid"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\ndeny = ["*"]', "field 'deny'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nschedule = "every day"', "field 'schedule'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nschedule = "61 * * * *"', "field 'schedule'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nencoding = "klingon"', "'encoding': unknown encoding"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nmax_pages = 0', "field 'max_pages'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nmax_depth = -1', "field 'max_depth'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nobey_robots = "no"', "field 'obey_robots'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nsearch_urls = ["http://a.test/s"]', "no {keyword}"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nallowed_domains = ["http://a.test"]', "domains'"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nfollow = true', "field 'follow': unknown field"),
        ('name = "x"\nstart_urls = ["http://a.test/"]\nadhoc = true', "field 'adhoc': unknown field"),
        ('start_urls = ["http://a.test/"]', "source #1, field 'name': field required"),
        ('name = "bad name!"\nstart_urls = ["http://a.test/"]', "field 'name'"),
    ],
)
def test_errors_name_the_source_and_the_field(table: str, message: str) -> None:
    with pytest.raises(SourcesError) as caught:
        parse_sources(f"[[source]]\n{table}\n", "s.toml")
    assert str(caught.value).startswith("s.toml: source ")
    assert message in str(caught.value)


def test_file_level_errors() -> None:
    with pytest.raises(SourcesError, match="not valid TOML"):
        parse_sources("[[source]\n", "s.toml")
    with pytest.raises(SourcesError, match="unknown top-level key 'sources'"):
        parse_sources('[[sources]]\nname = "x"\n', "s.toml")
    dup = '[[source]]\nname = "x"\nstart_urls = ["http://a.test/"]\n'
    with pytest.raises(SourcesError, match="source 'x', field 'name': duplicate source name"):
        parse_sources(dup + dup, "s.toml")


def test_missing_file_is_one_sentence(tmp_path) -> None:
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")


def test_adhoc_source_is_named_after_the_host() -> None:
    source = adhoc_source("http://Forum.Example.test:8080/b?x=1", render="browser", allow=["/b"], max_pages=7)
    assert source.name == "forum.example.test"
    assert source.adhoc
    assert source.render == "browser"
    assert source.allowed_domains == ["forum.example.test"]
    assert source.max_pages == 7
    with pytest.raises(SourcesError, match="--url"):
        adhoc_source("not a url")


def test_every_problem_is_collected_and_a_misspelt_field_gets_a_suggestion() -> None:
    from linkwatch.sources import check_sources

    text = ('[[source]]\nname = "a"\nstart_urls = ["ftp://a.test/"]\nmax_page = 5\n'
            '[[source]]\nname = "b"\nstart_urls = ["http://b.test/"]\n'
            '[[source]]\nname = "b"\nstart_urls = ["http://b.test/"]\n')
    found, problems = check_sources(text, "s.toml")
    assert [s.name for s in found] == ["b"]
    assert problems == [
        "s.toml: source 'a', field 'start_urls': 'ftp://a.test/' is not an http(s) URL",
        "s.toml: source 'a', field 'max_page': unknown field (did you mean max_pages?)",
        "s.toml: source 'b', field 'name': duplicate source name",
    ]
    with pytest.raises(SourcesError) as caught:
        parse_sources(text, "s.toml")
    assert str(caught.value).endswith("(and 2 more problems; `linkwatch sources check` lists them)")
    assert caught.value.problems == problems
