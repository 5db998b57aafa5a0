"""docs/config.md against the code: every default the reference states is the default the code uses.

The defaults live in the code (the readers' fallbacks and the neuron's presets); `settle keys`
lists them. This test reads every key table of docs/config.md and fails when a stated default
differs from the code's, so a default changed in one place and not the other cannot pass.

The docs' default cells follow one syntax: `value` or `value; context: value; ...`, where a
context names the config in which the other default applies (CONTEXTS below).
"""
import json
import re
from fractions import Fraction

import pytest

from conftest import SOURCE

DOC = SOURCE / "docs" / "config.md"

# A context of a default cell -> the overrides that select it (several: the default holds in each).
CONTEXTS = {
    "teacher_student": [[]],
    "moons": [["task.kind=two_moons"]],
    "fashion_mnist": [["task.kind=fashion_mnist"]],
    "classification": [["task.kind=two_moons"], ["task.kind=fashion_mnist"]],
    "spiking": [["circuit.mode=spiking"]],
    "symmetric": [["circuit.feedback=symmetric"]],
}

# The config `settle keys` reads for a table's keys, by the table's section.
CIRCUIT_BASE = 'experiment = "circuit"\n[output]\n[task]\n[schedule]\n[training]\n[derivative_test]\n[record]\n'
NETWORK_BASE = """
[simulation]
duration_ms = 10.0
[[population]]
name = "n"
model = "urbanczik_senn"
size = 1
preset = "{preset}"
"""
NOT_A_VALUE = {"required", "none", "-", ""}


def parse_value(text):
    """A documented default as a Python value: numbers (also fractions like 1/3), strings, arrays, booleans."""
    text = text.strip().strip("`").strip()
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("["):
        inner = text[1:-1].strip()
        return [parse_value(x) for x in inner.split(",")] if inner else []
    if text.startswith('"'):
        return text.strip('"')
    try:
        return float(Fraction(text)) if "/" in text else float(text)
    except ValueError:
        return text  # a bare word: compared as a string


def code_value(toml_text):
    """A value printed by `settle keys` (TOML) as a Python value."""
    return parse_value(toml_text)


def same(doc, code):
    if isinstance(doc, list) and isinstance(code, list):
        return len(doc) == len(code) and all(same(a, b) for a, b in zip(doc, code))
    if isinstance(doc, float) and isinstance(code, float):
        # `settle keys` prints 12 significant digits; the docs may write a fraction such as 1/3.
        return abs(doc - code) <= 1e-9 * max(1.0, abs(code))
    return doc == code


def documented_defaults():
    """(section, key, [(context, default text)], line number) for every key row of every key table."""
    rows = []
    section = None
    lines = DOC.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        heading = re.match(r"^(?:#+ )?`\[\[?([a-z_.]+)\]\]?`", line)
        if heading:
            section = heading.group(1)
        elif re.match(r"^## Top level", line):
            section = ""
        elif line.startswith("## "):
            section = None
        if not line.startswith("| `") or section is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4:
            continue
        keys = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[0])
        default = cells[2]
        if not keys or default in NOT_A_VALUE:
            continue
        parts = [p.strip() for p in default.split(";")]
        contexts = [("teacher_student", parts[0])]
        for part in parts[1:]:
            context, _, value = part.partition(":")
            contexts.append((context.strip(), value.strip()))
        for key in keys:
            rows.append((section, key, contexts, number))
    return rows


def keys_of(settle, tmp_path, base, overrides):
    config = tmp_path / "base.toml"
    config.write_text(base)
    args = ["keys", config, "--json"]
    for o in overrides:
        args += ["--set", o]
    return {r["key"]: r for r in json.loads(settle(*args).stdout)}


CHECKED_SECTIONS = {"", "output", "circuit", "schedule", "task", "training", "derivative_test", "record"}


def test_every_documented_default_is_the_codes(settle, tmp_path):
    rows = [r for r in documented_defaults() if r[0] in CHECKED_SECTIONS]
    assert len(rows) >= 40, "the docs' key tables were not found"
    cache = {}
    problems = []
    for section, key, contexts, line in rows:
        path = f"{section}.{key}" if section else key
        for context, text in contexts:
            assert context in CONTEXTS, f"docs/config.md:{line}: unknown context '{context}' in the default of {path}"
            for overrides in CONTEXTS[context]:
                cache_key = tuple(overrides)
                if cache_key not in cache:
                    cache[cache_key] = keys_of(settle, tmp_path, CIRCUIT_BASE, overrides)
                records = cache[cache_key]
                if path not in records and context == "teacher_student":
                    # A key of one task only (e.g. task.noise of two_moons): its default where it is read.
                    for other in ("moons", "fashion_mnist", "spiking"):
                        other_key = tuple(CONTEXTS[other][0])
                        if other_key not in cache:
                            cache[other_key] = keys_of(settle, tmp_path, CIRCUIT_BASE, list(other_key))
                        if path in cache[other_key]:
                            records = cache[other_key]
                            break
                if path not in records:
                    problems.append(f"docs/config.md:{line}: {path} is documented but the code never reads it")
                    continue
                code = records[path]["default"] or records[path]["value"]
                if not same(parse_value(text), code_value(code)):
                    where = f" ({' '.join(overrides)})" if overrides else ""
                    problems.append(f"docs/config.md:{line}: {path}{where}: docs say {text}, code says {code}")
    assert not problems, "\n".join(problems)


def test_every_circuit_key_the_code_reads_is_documented(settle, tmp_path):
    documented = {f"{s}.{k}" if s else k for s, k, _, _ in documented_defaults()}
    records = keys_of(settle, tmp_path, CIRCUIT_BASE, ["circuit.mode=spiking"])
    missing = [k for k in records if k.split(".")[0] in CHECKED_SECTIONS - {""} and k not in documented]
    assert not missing, f"read by the code, missing from docs/config.md: {missing}"


@pytest.mark.parametrize("preset, column", [("nest", 2), ("paper", 3)])
def test_neuron_parameter_table_matches_the_presets(settle, tmp_path, preset, column):
    records = keys_of(settle, tmp_path, NETWORK_BASE.format(preset=preset), [])
    lines = DOC.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("| parameter | unit | nest | paper |"))
    checked = 0
    for number, line in enumerate(lines[start + 2:], start + 3):
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_]+)`", cells[0]):
            record = records[f"population.n.params.{name}"]
            code = record["value"]
            assert same(parse_value(cells[column]), code_value(code)), (
                f"docs/config.md:{number}: {name} ({preset}): docs say {cells[column]}, code says {code}")
            # The unit column lists the units of the row's parameters in order ("mV, 1").
            units = [u.strip() for u in cells[1].split(",")]
            unit = units[re.findall(r"`([A-Za-z_]+)`", cells[0]).index(name)] if len(units) > 1 else units[0]
            assert unit == record["unit"], (
                f"docs/config.md:{number}: {name}: docs give the unit {unit}, the parameter table {record['unit']}")
            checked += 1
    params = [k for k in records if k.startswith("population.n.params.")]
    assert checked == len(params), f"{len(params)} parameters in the code, {checked} in the docs' table"


RULE_NETWORK = """
[simulation]
duration_ms = 10.0
[[population]]
name = "pre"
model = "poisson_source"
size = 1
rate_hz = 1.0
[[population]]
name = "post"
model = "urbanczik_senn"
size = 1
[[projection]]
source = "pre"
target = "post"
receptor = "dendrite"
weight = 1.0
plasticity = {{ rule = "{rule}" }}
"""


def rule_tables():
    """{rule: [(key, default text, line)]} from the `### rule = "..."` tables of docs/config.md."""
    tables, rule = {}, None
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        heading = re.match(r'^### `rule = "([a-z_]+)"`', line)
        if heading:
            rule = heading.group(1)
            tables[rule] = []
        elif line.startswith("#"):
            rule = None
        elif rule and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for key in re.findall(r"`([A-Za-z_]+)`", cells[0]):
                tables[rule].append((key, cells[2], number))
    return tables


# The dense rules sit on a dense projection between two two_channel_unit populations.
DENSE_RULE_NETWORK = """
[simulation]
duration_ms = 10.0
[[population]]
name = "pre"
model = "two_channel_unit"
size = 2
[[population]]
name = "post"
model = "two_channel_unit"
size = 2
[[projection]]
kind = "dense"
source = "pre"
target = "post"
weight = 0.0
plasticity = {{ rule = "{rule}"{extra} }}
"""
DENSE_RULES = {"lag_compensated": "", "apical_mismatch": ', error_population = "pre"'}


def test_every_rule_default_is_the_codes(settle, tmp_path):
    tables = rule_tables()
    assert set(tables) == {"dendritic_prediction", "pre_post_derivative", "pair_stdp"} | set(DENSE_RULES)
    for rule, rows in tables.items():
        config = (DENSE_RULE_NETWORK.format(rule=rule, extra=DENSE_RULES[rule]) if rule in DENSE_RULES
                  else RULE_NETWORK.format(rule=rule))
        records = keys_of(settle, tmp_path, config, [])
        prefix = "projection.pre->post.plasticity."
        code_keys = {k[len(prefix):]: r for k, r in records.items() if k.startswith(prefix) and k != prefix + "rule"}
        assert {key for key, _, _ in rows} == set(code_keys), f"{rule}: docs and code list different keys"
        for key, text, line in rows:
            code = code_keys[key]["default"]
            if text in NOT_A_VALUE and code == "":
                continue  # required: no default on either side
            assert same(parse_value(text), code_value(code)), (
                f"docs/config.md:{line}: {rule}.{key}: docs say {text}, code says {code}")


TWO_CHANNEL_NETWORK = """
[simulation]
duration_ms = 10.0
[[population]]
name = "n"
model = "two_channel_unit"
size = 1
"""


def test_two_channel_unit_parameter_table_matches_the_code(settle, tmp_path):
    records = keys_of(settle, tmp_path, TWO_CHANNEL_NETWORK, [])
    lines = DOC.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith('### `model = "two_channel_unit"`'))
    header = next(i for i in range(start, len(lines)) if lines[i].startswith("| parameter | unit | default | meaning |"))
    checked = 0
    for number, line in enumerate(lines[header + 2:], header + 3):
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`([A-Za-z_]+)`", cells[0])
        defaults = [d.strip() for d in cells[2].split(",")] if len(names) > 1 else [cells[2]]
        for name, default in zip(names, defaults):
            record = records[f"population.n.params.{name}"]
            assert same(parse_value(default), code_value(record["value"])), (
                f"docs/config.md:{number}: {name}: docs say {default}, code says {record['value']}")
            assert cells[1] == record["unit"], f"docs/config.md:{number}: {name}: unit {cells[1]} against {record['unit']}"
            checked += 1
    params = [k for k in records if k.startswith("population.n.params.")]
    assert checked == len(params), f"{len(params)} parameters in the code, {checked} in the docs' table"
