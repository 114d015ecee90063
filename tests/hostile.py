"""Hostile input for the property-based page tests (``tests/*/test_hostile_pages.py``).

* ``pages(*namespaces)``: the URLs of the URLconf (``django.urls``), so a new page is fuzzed
  without anyone listing it; ``path_of(page, objects)`` fills its path with real objects;
* ``check_query(client, path, ...)``: every query parameter the view reads (recorded while it
  answers) gets each of KILLERS, then Hypothesis sends hostile values: non-finite, huge and
  negative numbers, malformed and deeply nested JSON, impossible dates, NUL and other control
  characters, unicode, huge strings, repeated parameters (lists), made-up names;
* ``forms_on(html, path)``: the POST forms of a page with what the page fills in, and
  ``check_form(client, form, ...)`` the same treatment for each of its fields;
* ``rolled_back(client)``: an example's database changes and cookies are undone after it, so
  every example starts from the same objects (a logout or a cancel included).

Nothing may answer 500; a form answers a redirect, or a page showing its errors; after a
post that saved something, the pages showing it must open.
"""

from __future__ import annotations

import copy
import os
import socket
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict
from django.urls import URLResolver, get_resolver, reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aws import clients

#: Hypothesis settings of these suites: a fixture's objects are shared by the examples (each
#: one rolled back); page renders are slow for Hypothesis's taste. The same examples every run
#: (tests/conftest.py): 15 of them, besides the KILLERS every parameter and field gets (30 made
#: tests/tuning/test_hostile_pages.py take 85 s of CPU instead of 58 s, 2026-11-28, busy 2-core
#: machine); HOSTILE_EXAMPLES=2000 HYPOTHESIS_PROFILE=explore explores further than the suite's
#: time budget allows.
PAGE_SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", 15)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NESTED = 50_000
HOSTILE = (
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e30",
    "-1e30",
    "1e309",
    "1e-400",
    "-1",
    "0",
    "-0",
    "0.5",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 40,
    "9" * 5000,
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits: int() accepts them
    "²",
    "true",
    "null",
    "[]",
    "{}",
    '{"a": NaN}',
    "[1e999]",
    '"\\u0000"',
    '{"k\\u0000": 1}',
    '"\\ud800"',
    "[" * NESTED + "]" * NESTED,
    '{"a":' * 1000 + "1" + "}" * 1000,
    "9999-12-31",
    "0001-01-01",
    "2024-02-30",
    "99999-01-01",
    "00000000-0000-0000-0000-000000000000",
    "\x00",
    "a\x00b",
    "\x01\x08\x0b\x1f\x7f",
    "\r\n",
    "\t",
    "é",
    "😀",
    "\u202e",
    "\ufeff",
    "\U0010ffff",
    "x" * 2049,
    "y" * 100_000,
    "<script>alert(1)</script>",
    "'; DROP TABLE tuning_tuningrun; --",
    "%00",
    "../../etc/passwd",
    "arn:aws:lambda:us-east-1:123456789012:function:" + "a" * 65,
)


#: Sent to every parameter and field, one at a time, besides the random examples.
KILLERS = ("\x00", "9" * 20, "-1", "1e30", "NaN", "9999-12-31", "[" * NESTED + "]" * NESTED)


def hostile_text() -> st.SearchStrategy[str]:
    """Half the time one of HOSTILE, else made-up text or a number."""
    made_up = st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats().map(repr),  # nan, inf, 1e+300, -0.0...
    )
    return st.one_of(st.sampled_from(HOSTILE), made_up)


def value(plausible: st.SearchStrategy[str] | None = None) -> st.SearchStrategy:
    """One parameter's value: plausible (when there is one) or hostile, or a list of them (a
    repeated parameter)."""
    one = hostile_text() if plausible is None else st.one_of(plausible, hostile_text())
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


def changed(base: st.SearchStrategy[dict], names, plausible: dict) -> st.SearchStrategy[dict]:
    """``base`` with up to three parameters (``names`` or made-up ones) changed or left out:
    mostly what a page understands, so the hostile values reach deep into the view."""
    made_up = st.text(min_size=1, max_size=10)
    name = st.one_of(st.sampled_from(sorted(names)), made_up) if names else made_up
    change = st.one_of(st.none(), value(st.one_of(*plausible.values()) if plausible else None))
    changes = st.dictionaries(name, change, max_size=3)

    def apply(parts):
        data, changes = parts
        data = {**data, **changes}
        return {key: item for key, item in data.items() if item is not None}

    return st.tuples(base, changes).map(apply)


def query(names, plausible: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict]:
    """Query parameters: some of ``names`` with plausible values, up to three hostile ones."""
    base = st.fixed_dictionaries(
        {}, optional={name: plausible[name] for name in names if name in plausible}
    )
    return changed(base, names, plausible)


@contextmanager
def recording_reads():
    """The names a view asks ``request.GET`` (or any QueryDict) for while this is open."""
    names: set[str] = set()

    def recorder(read):
        def recorded(self, key, *args, **kwargs):
            if not self._mutable:  # request.GET once built (building it asks for every key)
                names.add(key)
            return read(self, key, *args, **kwargs)

        return recorded

    readers = ("__getitem__", "__contains__", "getlist")
    originals = {name: getattr(QueryDict, name) for name in readers}
    for name, read in originals.items():
        setattr(QueryDict, name, recorder(read))
    try:
        yield names
    finally:
        for name in readers:
            delattr(QueryDict, name)  # QueryDict inherits them all


def check_query(client, path: str, plausible: dict[str, list[str]], *, names=(), also_ok=()):
    """GET ``path`` with every query parameter its view reads (asked with all ``plausible``
    values set) set to each of KILLERS, then with Hypothesis's parameters (the names read and
    ``names``): never a 500 (nor 5xx, but for ``also_ok``)."""
    base = {name: values[0] for name, values in plausible.items()}
    with recording_reads() as read, rolled_back(client):
        client.get(path, base)

    def answer(params):
        with rolled_back(client):
            status = client.get(path, params).status_code
        assert status < 500 or status in also_ok, (path, status, _short(params))

    for name in sorted(read):
        for killer in KILLERS:
            answer({**base, name: killer})
    strategies = {name: st.sampled_from(values) for name, values in plausible.items()}
    # A view that reads no parameter only meets them in the middleware: a few examples do.
    examples = PAGE_SETTINGS.max_examples if read else 3
    checked = given(query(sorted(read | set(names)), strategies))(answer)
    settings(PAGE_SETTINGS, max_examples=examples)(checked)()


def _short(data: dict) -> dict:
    """The data for a failure message, long values cut."""
    return {key: repr(value)[:60] for key, value in data.items()}


# --------------------------------------------------------------------------- the URLconf


@dataclass(frozen=True)
class Page:
    name: str  # "tuning:run_detail"
    route: str  # "runs/<uuid:pk>/"
    converters: dict = field(hash=False)  # {"pk": "uuid"}

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix: str, namespace: str):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":  # Django's own admin site: not ours to fuzz
                continue
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            converters = {
                name: type(converter).__name__.removesuffix("Converter").lower()
                for name, converter in getattr(pattern.pattern, "converters", {}).items()
            }
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Page(name, prefix + str(pattern.pattern), converters)


def pages(*namespaces: str) -> list[Page]:
    """The URLs of the URLconf (Django's admin aside) in these namespaces ("" = the ones
    without a namespace); every one without arguments."""
    every = _walk(get_resolver().url_patterns, "", "")
    return [page for page in every if not namespaces or page.namespace in namespaces]


def path_of(page: Page, objects: dict) -> str:
    """The page's path with ``objects[name]`` for each path parameter."""
    missing = set(page.converters) - set(objects)
    assert not missing, f"{page}: say which real object fills {sorted(missing)}"
    return reverse(page.name, kwargs={name: objects[name] for name in page.converters})


def converter_values(converter: str) -> st.SearchStrategy:
    """Made-up path parameter values the converter lets through to the view."""
    if converter == "int":
        return st.one_of(
            st.integers(min_value=0, max_value=10**30),
            st.sampled_from([0, 2**31, 2**63, 10**40]),
        )
    if converter == "uuid":
        return st.uuids()
    text = hostile_text() | st.text(min_size=1, max_size=80)
    return text.map(lambda s: s.replace("/", "")).filter(bool)


def edge_path_values(page: Page, objects: dict) -> list[dict]:
    """The page's real path values with one of them replaced by an edge value of its
    converter: huge integers, the nil UUID, NUL and other text nobody types."""
    edges = {
        "int": [0, 2**31, 2**63, 10**40],
        "uuid": [uuid.UUID(int=0)],
        "str": ["\x00", "a\x00b", "%00", " ", "é😀", "x" * 5000],
    }
    real = {name: objects[name] for name in page.converters}
    return [
        {**real, name: edge}
        for name, converter in page.converters.items()
        for edge in edges.get(converter, edges["str"])
    ]


# --------------------------------------------------------------------------- forms


@dataclass
class Form:
    action: str
    #: name -> the values the page offers (select options, a checkbox's value, a text's value)
    fields: dict[str, list[str]]
    #: what a browser submits for the page as it is (selected options, ticked boxes, texts)
    submitted: dict[str, list[str]]
    hidden: dict[str, str]  # sent as it is: the CSRF token (other hidden inputs are fields)

    def __str__(self) -> str:
        return f"form posting {sorted(self.fields)} to {self.action}"


class _FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def _offer(self, name: str, value: str, submitted: bool) -> None:
        self.form.fields.setdefault(name, []).append(value)
        if submitted:
            self.form.submitted.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            action = urlsplit(attrs.get("action") or self.page_path).path or self.page_path
            self.form = Form(action, {}, {}, {})
        if self.form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if name == "csrfmiddlewaretoken":
                self.form.hidden[name] = attrs.get("value", "")
            elif kind in ("checkbox", "radio"):
                self._offer(name, attrs.get("value") or "on", "checked" in attrs)
            elif kind not in ("submit", "button", "reset"):
                self._offer(name, attrs.get("value", ""), True)
        elif tag == "select" and name:
            self.select = name
            self.form.fields.setdefault(name, [])
        elif tag == "option" and self.select:
            self._offer(self.select, attrs.get("value", ""), "selected" in attrs)
        elif tag == "textarea" and name:
            self.textarea = name
            self._offer(name, "", True)

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form.fields[self.textarea][-1] += data
            self.form.submitted[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            self.forms.append(self.form)
            self.form = None
        elif tag == "select" and self.select:
            options = self.form.fields[self.select]
            if self.select not in self.form.submitted and options:
                self.form.submitted[self.select] = options[:1]  # as browsers do
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(html: str, page_path: str) -> list[Form]:
    parser = _FormParser(page_path)
    parser.feed(html)
    return parser.forms


def form_data(form: Form, base: dict) -> st.SearchStrategy[dict]:
    """``base`` with up to three fields changed: another value the page offers, a hostile value
    or several, or left out (as a browser does with an unticked box)."""
    offered = {name: st.sampled_from(values) for name, values in form.fields.items() if values}
    return changed(st.just(base), set(form.fields) | set(base), offered).map(
        lambda data: {**data, **form.hidden}
    )


def post(client, path: str, data: dict):
    """A form post as a browser sends it (urlencoded, repeated names for lists)."""
    return client.post(
        path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
    )


def shows_its_errors(response) -> bool:
    """The page says why the post was refused: an error is shown, and each field error of its
    form word for word (the form's own errors may be worded by the page)."""
    body = response.content.decode()
    marks = ('class="errorlist', 'class="message error', 'class="error')
    form = response.context.get("form") if response.context else None
    field_errors = [
        error
        for name, errors in (form.errors.items() if form else ())
        if name != "__all__"
        for error in errors
    ]
    return any(mark in body for mark in marks) and all(
        escape(error) in body for error in field_errors
    )


def check_form(client, form: Form, *, typed=None, pages_showing=None) -> None:
    """Post ``form`` as the page fills it (plus ``typed``: what a user types into the fields
    it leaves empty) with each field set to each of KILLERS, then with Hypothesis's changes.
    Every answer is below 500; a 200/400 shows the form's errors; after a redirect, every page
    of ``pages_showing(response)`` opens."""
    base = {**form.submitted, **(typed or {})}

    def answer(data):
        with rolled_back(client):
            response = post(client, form.action, data)
            status = response.status_code
            assert status < 500, (form.action, _short(data))
            if status in (200, 400):
                assert shows_its_errors(response), (form.action, _short(data))
            if status in (301, 302, 303) and pages_showing is not None:
                for path in pages_showing(response):
                    opened = client.get(path).status_code
                    assert opened == 200, (path, opened, form.action, _short(data))

    for name in form.fields:
        for killer in KILLERS:
            answer({**base, name: killer, **form.hidden})
    examples = PAGE_SETTINGS.max_examples if form.fields else 5  # only made-up fields to send
    settings(PAGE_SETTINGS, max_examples=examples)(given(form_data(form, base))(answer))()


# --------------------------------------------------------------------------- isolation


@contextmanager
def rolled_back(client):
    """Undo the example's database changes and the client's cookies (session, messages)."""
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies


@contextmanager
def module_world(django_db_blocker):
    """For a module-scoped fixture building the objects every test of the module uses: the
    database open and everything undone at the end (each test runs in a savepoint inside),
    AWS offline."""
    with django_db_blocker.unblock(), transaction.atomic(), offline_aws():
        yield
        transaction.set_rollback(True)


@contextmanager
def offline_aws():
    """Every AWS call fails at once (connection refused on a closed local port): the pages'
    answers to AWS errors are part of what is fuzzed, and nothing reaches real AWS."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        for name in [key for key in os.environ if key.startswith("AWS_ENDPOINT_URL")]:
            env.delenv(name)
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        clients.clear()
        cache.clear()
        try:
            yield
        finally:
            clients.clear()  # the clients made here point at the closed port
            cache.clear()
