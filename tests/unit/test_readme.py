"""The README stays in step with the command line and the settings (click introspection, no subprocess).

The README's convention, which these tests check:

- Every command has a reference section headed by its full name: `### linkwatch` (the global options),
  `### linkwatch COMMAND` for each command, and `#### linkwatch COMMAND SUBCOMMAND` for each
  subcommand, inside its parent's section. No other `###`/`####` heading starts with `linkwatch `.
- A command's own text is its section without the sections of its subcommands. It names every
  visible long option of the command (an options table copied from `--help` does).
- Every `--option` in a command's own text is one of that command's visible options, a global one
  (`linkwatch --database-url`) or `--help`, unless the code span (or code-block line) it is in names another
  command first: `` `linkwatch crawl NAME --resume` `` and `` `check --due` `` are checked against
  `crawl` and `check`. Spans that start with another program's name (`curl`, `scrapy`, `make`) are
  not checked.
- An options table row (`| `--option METAVAR` | help |`) is that option's `--help` line, word for word.
- Every `LINKWATCH_*` name in the README is a field of linkwatch.config.Config, a setting of
  crawler/settings.py, a test variable (`LINKWATCH_TEST_*`, read by the tests) or one of EXTRA_VARIABLES;
  every Config field is a row of the table in `## Settings`, every crawler setting appears in the
  README, and every field of a `[[source]]` is named in `## Sources file`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click

from linkwatch.cli import main
from linkwatch.config import Config
from linkwatch.sources import Source

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# LINKWATCH_* variables read outside Config, with the file that reads them.
EXTRA_VARIABLES = {"LINKWATCH_DEBUG": "linkwatch/cli/__init__.py"}

HEADING = re.compile(r"^(#{1,6}) (.*?)\s*$")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)  # `code`, or ``code with a ` in it``; may wrap lines
VARIABLE = re.compile(r"\bLINKWATCH_[A-Z0-9_]*")

Path_ = tuple[str, ...]


# -- the commands, from click --------------------------------------------------------------------------

def _commands() -> dict[Path_, tuple[click.Command, click.Context]]:
    """Every command reachable from `linkwatch` (the lazy group imports each one), by its path."""
    found: dict[Path_, tuple[click.Command, click.Context]] = {}

    def walk(cmd: click.Command, path: Path_, ctx: click.Context) -> None:
        found[path] = (cmd, ctx)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, f"{label((*path, name))} is listed but cannot be loaded"
                walk(sub, (*path, name), click.Context(sub, parent=ctx, info_name=name))

    walk(main, (), click.Context(main, info_name="linkwatch", **main.context_settings))
    return found


COMMANDS = _commands()


def options(path: Path_, *, hidden: bool = False) -> set[str]:
    """The long options of a command (its help option left out; hidden ones only when asked)."""
    cmd, ctx = COMMANDS[path]
    help_option = cmd.get_help_option(ctx)
    return {opt for p in cmd.get_params(ctx)
            if isinstance(p, click.Option) and p is not help_option and (hidden or not p.hidden)
            for opt in p.opts + p.secondary_opts if opt.startswith("--")}


def label(path: Path_) -> str:
    return " ".join(("linkwatch", *path))


# -- the README's sections -------------------------------------------------------------------------------

def _headings() -> list[tuple[int, int, str]]:
    """(line index, level, title) of every heading outside fenced code blocks."""
    out, fenced = [], False
    for i, line in enumerate(README.splitlines()):
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = HEADING.match(line)
        if m and not fenced:
            out.append((i, len(m.group(1)), m.group(2)))
    return out


LINES = README.splitlines()
HEADINGS = _headings()


def _section_bounds() -> dict[Path_, tuple[int, int, int]]:
    """Command path -> (heading line, end line, level) for every `### linkwatch …` / `#### …` heading."""
    found: dict[Path_, tuple[int, int, int]] = {}
    for n, (i, level, title) in enumerate(HEADINGS):
        if level not in (3, 4) or not (title == "linkwatch" or title.startswith("linkwatch ")):
            continue
        path = tuple(title.split()[1:])
        assert path not in found, f"two README sections are headed {title!r}"
        end = next((j for j, lvl, _t in HEADINGS[n + 1:] if lvl <= level), len(LINES))
        found[path] = (i, end, level)
    return found


SECTIONS = _section_bounds()


def own_text(path: Path_) -> str:
    """The command's section without the sections of its subcommands."""
    start, end, _level = SECTIONS[path]
    inner = [(s, e) for p, (s, e, _l) in SECTIONS.items() if len(p) > len(path) and p[:len(path)] == path]
    return "\n".join(line for i, line in enumerate(LINES[start:end], start)
                     if not any(s <= i < e for s, e in inner))


def spans(text: str) -> list[str]:
    """Inline code spans (a wrapped one joined into one line), and each line of fenced code blocks (a
    `$ ` prompt dropped)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            out.append(line.removeprefix("$ ").strip())
    prose = "\n".join(_outside_fences(text))
    out.extend(" ".join(m.group(2).split()) for m in CODE_SPAN.finditer(prose))
    return out


def mentions(path: Path_) -> list[tuple[Path_, str]]:
    """(command the option is checked against, option) for every `--option` in a command's own text."""
    text = own_text(path)
    found: list[tuple[Path_, str]] = []
    for span in spans(text):
        if not OPTION.search(span):
            continue
        words = span.split()
        explicit = words[0] == "linkwatch"
        if explicit:
            words = words[1:]
        elif words[0] not in {p[0] for p in COMMANDS if p} and not words[0].startswith("-"):
            continue  # another program's command line (curl, scrapy, make …)
        current: Path_ = ()
        named = explicit
        for word in words:
            if word.startswith("--"):
                found.extend(((current if named else path), opt) for opt in OPTION.findall(word))
            elif not word.startswith("-") and (*current, word) in COMMANDS:
                current, named = (*current, word), True
    # options outside code spans (in prose) belong to the section's command
    prose = CODE_SPAN.sub("", "\n".join(_outside_fences(text)))
    found.extend((path, opt) for opt in OPTION.findall(prose))
    return found


def _outside_fences(text: str) -> list[str]:
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append(line)
    return out


# -- commands and options ----------------------------------------------------------------------------

def test_every_command_has_a_reference_section() -> None:
    missing = [label(p) for p in COMMANDS if p not in SECTIONS]
    assert missing == [], "README has no `### linkwatch …` / `#### linkwatch … …` section for these"


def test_every_reference_section_names_a_command_at_its_level() -> None:
    stale = [label(p) for p in SECTIONS if p not in COMMANDS]
    assert stale == [], "README sections for commands that do not exist"
    wrong = [label(p) for p, (_s, _e, level) in SECTIONS.items() if level != (3 if len(p) <= 1 else 4)]
    assert wrong == [], "commands and `linkwatch` are `###` sections, subcommands `####` ones"
    outside = [label(p) for p, (start, end, _l) in SECTIONS.items() if len(p) == 2
               and not (SECTIONS[p[:1]][0] < start and end <= SECTIONS[p[:1]][1])]
    assert outside == [], "a subcommand's section belongs inside its parent's"


def test_every_option_appears_in_its_commands_section() -> None:
    missing = [f"{label(p)} {opt}" for p in COMMANDS for opt in sorted(options(p))
               if not re.search(re.escape(opt) + r"(?![\w-])", own_text(p))]
    assert missing == [], "options missing from their command's README section"


def test_every_option_the_readme_mentions_exists() -> None:
    unknown = sorted({f"{label(p)}: {label(target)} {opt}" for p in SECTIONS for target, opt in mentions(p)
                      if opt not in options(target) | options(()) | {"--help"}})
    assert unknown == [], "options the README mentions that the command does not have (or hides)"


def test_the_mention_parser_attributes_options_to_the_command_named() -> None:
    # A check of the checker: cross-references in the README are attributed to the command they name.
    assert (("crawl",), "--resume") in mentions(("db", "replay"))
    assert ((), "--database-url") in mentions(("demo",))
    assert (("check",), "--due") in mentions(("schedule",))


# -- settings and sources -------------------------------------------------------------------------------

def crawler_settings() -> set[str]:
    tree = ast.parse((ROOT / "crawler" / "settings.py").read_text(encoding="utf-8"))
    return {t.id for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name) and t.id.startswith("LINKWATCH_")}


def config_variables() -> set[str]:
    return {f"LINKWATCH_{name.upper()}" for name in Config.model_fields}


def readme_variables() -> set[str]:
    # `LINKWATCH_CHECK_*` style wildcards end in "_" (or are followed by "*"): not a name.
    return {m.group(0) for m in VARIABLE.finditer(README)
            if not m.group(0).endswith("_") and README[m.end():m.end() + 1] != "*"}


def section(title: str) -> str:
    start = next(i for i, level, t in HEADINGS if level == 2 and t == title)
    end = next((i for i, level, _t in HEADINGS if level <= 2 and i > start), len(LINES))
    return "\n".join(LINES[start:end])


def test_every_linkwatch_variable_in_the_readme_exists() -> None:
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py")
                      if p.name != "test_readme.py")
    known = config_variables() | crawler_settings()
    unknown = sorted(name for name in readme_variables() if name not in known
                     and not (name.startswith("LINKWATCH_TEST_") and name in tests)
                     and name not in EXTRA_VARIABLES)
    assert unknown == [], "LINKWATCH_* names in the README that nothing reads"
    for name, where in EXTRA_VARIABLES.items():
        assert name in (ROOT / where).read_text(encoding="utf-8"), f"{where} no longer reads {name}"


def test_every_config_field_is_in_the_settings_table() -> None:
    rows = [line for line in section("Settings").splitlines() if line.startswith("| `LINKWATCH_")]
    listed = {line.split("`")[1] for line in rows}
    assert sorted(config_variables() - listed) == [], "Config fields missing from the README's settings table"


def test_every_crawler_setting_is_in_the_readme() -> None:
    assert sorted(crawler_settings() - readme_variables()) == []


def test_every_source_field_is_in_the_sources_file_section() -> None:
    text = section("Sources file")
    missing = [name for name in Source.model_fields if name != "adhoc"
               and not re.search(rf"^{name} = |`{name}`", text, re.MULTILINE)]
    assert missing == [], "[[source]] fields missing from the README's Sources file section"


OPTION_ROW = re.compile(r"^\| `(--[^`]+)` \| (.*) \|$")


def _help_rows(path: Path_) -> dict[str, tuple[str, str]]:
    """First long option -> (the option as --help prints it, its help text), from click itself."""
    cmd, ctx = COMMANDS[path]
    rows = {}
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is not None and not param.hidden:
            first = next((o for o in param.opts if o.startswith("--")), None)
            if first is not None:
                rows[first] = (" ".join(record[0].split()), " ".join(record[1].split()))
    return rows


def test_option_tables_say_what_help_says() -> None:
    """A `| `--option …` | help |` row in a command's section is its --help line, word for word."""
    stale = []
    for path in SECTIONS:
        if path not in COMMANDS:
            continue
        rows = _help_rows(path)
        for line in _outside_fences(own_text(path)):
            m = OPTION_ROW.match(line)
            if not m:
                continue
            shown = " ".join(m.group(1).replace("\\|", "|").split())
            text = " ".join(m.group(2).replace("\\|", "|").split())
            names = [o.split()[0] for o in shown.split(", ")]  # `--all, -a` or `--live / --no-live`
            want = next((rows[n] for n in names if n in rows), None)
            if (shown, text) != want:
                stale.append(f"{label(path)}: README `{shown}` | {text}\n    --help {want}")
    assert stale == [], "option rows that differ from --help:\n" + "\n".join(stale)
