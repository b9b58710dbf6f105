"""Real third-party workload: rendering jinja2 templates (loops, macros, filters, includes).

    python benchmarks/workloads/jinja2_render.py [--scale S]

Needs jinja2 (``benchmarks/profiler_overhead.py`` runs it in the virtual environment it sets
up with a pinned jinja2 from PyPI). A report page extends a base layout, imports a macro
library, includes a partial per section, loops over nested data and applies built-in and
custom filters; it is rendered many times with different data. The environment compiles each
template once; rendering then runs the compiled template code (file name ``<template>``, as
jinja2 names code compiled from a ``DictLoader``) and jinja2's runtime (contexts, macros,
loop objects, escaping through markupsafe, filters). About 1-2 s unprofiled at scale 1 on
a 2-core VM. Deterministic; self-checks the rendered pages and exits non-zero on a mismatch.
"""

from __future__ import annotations

import random
import sys

import jinja2
from _workload import parse_scale

TEMPLATES = {
    "base.html": """<!doctype html>
<html><head><title>{% block title %}{{ site | upper }}{% endblock %}</title></head>
<body>
<nav>{% for link in nav %}<a href="{{ link.href }}"{% if link.active %} class="on"{% endif %}>
{{- link.text | e }}</a>{% if not loop.last %} | {% endif %}{% endfor %}</nav>
<main>{% block content %}{% endblock %}</main>
<footer>{% block footer %}{{ site }} &middot; {{ year }}{% endblock %}</footer>
</body></html>
""",
    "macros.html": """{% macro money(value, currency="EUR") -%}
{{ "%.2f" | format(value) }} {{ currency }}
{%- endmacro %}
{% macro badge(tag) -%}
<span class="badge badge-{{ tag | lower | replace(' ', '-') }}">{{ tag | title }}</span>
{%- endmacro %}
{% macro row(item, index) -%}
<tr class="{{ loop_class(index) }}"><td>{{ index }}</td><td>{{ item.name | truncate(24) }}</td>
<td>{{ money(item.price, item.currency) }}</td><td>{{ item.qty }}</td>
<td>{% for tag in item.tags | sort %}{{ badge(tag) }}{% endfor %}</td>
<td>{{ item.note | default("-") | striptags | wordcount }}</td></tr>
{%- endmacro %}
""",
    "section.html": """<section id="{{ section.slug }}">
<h2>{{ section.title | title }} <small>({{ section.entries | length }} items)</small></h2>
<table>{% for item in section.entries %}{{ macros.row(item, loop.index) }}
{% else %}<tr><td colspan="6">empty</td></tr>{% endfor %}</table>
<p>Total: {{ macros.money(section.entries | sum(attribute="total")) }};
tags: {{ section.entries | map(attribute="tags") | map("join", ",") | join("; ")
          | truncate(60) }}</p>
{% for group in section.entries | groupby("category") %}<h3>{{ group.grouper }}</h3>
<ul>{% for item in group.list %}<li>{{ item.name | shout }}</li>{% endfor %}</ul>{% endfor %}
</section>
""",
    "report.html": """{% extends "base.html" %}
{% import "macros.html" as macros %}
{% block title %}{{ report.title }} - {{ super() }}{% endblock %}
{% block content %}
<h1>{{ report.title | e }}</h1>
{% set ns = namespace(count=0) %}
{% for section in report.sections %}{% set ns.count = ns.count + section.entries | length %}
{% include "section.html" %}
{% endfor %}
<p class="summary">{{ ns.count }} items in {{ report.sections | length }} sections;
authors: {{ report.authors | map("title") | unique | join(", ") }}</p>
{% endblock %}
""",
}

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
    "rho sigma tau upsilon phi chi psi omega"
).split()
CATEGORIES = ("tools", "books", "garden", "kitchen", "toys")


def shout(text: str) -> str:
    return text.upper() + "!"


def loop_class(index: int) -> str:
    return "even" if index % 2 == 0 else "odd"


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,
        # one compiled copy per template for the whole run
        cache_size=-1,
        auto_reload=False,
    )
    env.filters["shout"] = shout
    env.globals["loop_class"] = loop_class
    return env


def make_report(rng: random.Random, number: int) -> dict[str, object]:
    sections = []
    for s in range(rng.randint(3, 6)):
        items = []
        for _ in range(rng.randint(4, 14)):
            price = round(rng.uniform(1, 500), 2)
            qty = rng.randint(1, 9)
            items.append(
                {
                    "name": " ".join(rng.choices(WORDS, k=rng.randint(1, 5))),
                    "price": price,
                    "qty": qty,
                    "total": price * qty,
                    "currency": rng.choice(("EUR", "USD", "CHF")),
                    "category": rng.choice(CATEGORIES),
                    "tags": rng.sample(WORDS, k=rng.randint(0, 3)),
                    "note": rng.choice((None, "<b>bold</b> note here", "plain words only")),
                }
            )
        sections.append({"slug": f"s{number}-{s}", "title": rng.choice(WORDS), "entries": items})
    return {
        "title": f"Report <{number}> & co",
        "sections": sections,
        "authors": rng.choices(WORDS, k=4),
    }


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rng = random.Random(20261206)
    env = make_environment()
    template = env.get_template("report.html")
    pages = max(5, int(600 * scale))
    nav = [{"href": f"/{w}", "text": w, "active": i == 2} for i, w in enumerate(WORDS[:6])]
    rows = sections = 0
    size = 0
    for number in range(pages):
        report = make_report(rng, number)
        html = template.render(report=report, nav=nav, site="bench", year=2026)
        want_rows = sum(len(s["entries"]) for s in report["sections"])  # type: ignore[attr-defined]
        got_rows = html.count("<tr class=")
        if got_rows != want_rows or f"Report &lt;{number}&gt; &amp; co" not in html:
            print(f"page {number}: {got_rows} rows, expected {want_rows}", file=sys.stderr)
            return 1
        rows += got_rows
        sections += html.count("<section ")
        size += len(html)
    print(f"jinja2 ok: {pages} pages, {sections} sections, {rows} rows, {size} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
