"""Bulk import of contracts (``qiyue import contracts FILE``, the benchmark generator).

Each row is checked by the same rules as :func:`qiyue.contracts.actions.create_contract`
(``clean_contract_data``): its plain fields row by row, its customer, type and owner once
per distinct value (the checks depend only on the value and the actor, so their result is
cached for the import). Customers named in a row that do not exist yet are created with
``create_party`` (the actor needs ``party.create``). Valid rows are written in batches:
one transaction per batch with the numbers allocated as one block per contract type, the
contracts inserted together, and one ``contract.created`` audit event per contract
(written together by ``record_many``). After
each commit the batch's contracts are indexed for search together, in this process.

Rows come from :func:`read_rows` (CSV with a header line, or JSON Lines) as
``(line_number, dict)``; refused rows are reported with their line number and do not stop
the others, unless ``all_or_nothing``: then every row is checked first and nothing is
written if one is refused."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record_many
from qiyue.compliance.hooks import recheck_many_after_commit
from qiyue.contracts.actions import (
    ALL_FIELDS,
    ContractError,
    NotAllowed,
    clean_contract_data,
    counterparty_error,
    snapshot_value,
)
from qiyue.contracts.models import (
    STATE_VALUES,
    Contract,
    ContractState,
    ContractType,
    Tag,
)
from qiyue.contracts.numbering import allocate_numbers
from qiyue.documents.bulk import MAX_TEXT_CHARS
from qiyue.lib.bulksql import insert_rows
from qiyue.lib.text import normalize_company_name
from qiyue.parties.actions import PartyError, create_party
from qiyue.parties.models import Party
from qiyue.search.hooks import optimize_after_commit

#: Rows a transaction. Larger batches commit (and checkpoint SQLite's write-ahead log) less
#: often: 2,000 rows take ~0.2 s of the write lock; 500 cost a third more a row
#: (``bench/import.py``).
DEFAULT_BATCH = 2000
#: An import that indexes at least this many contracts has the index merged afterwards
#: (a job: ``search.hooks.optimize_after_commit``): each batch is a piece of the index.
OPTIMIZE_AFTER = 5_000
#: Columns of an import file besides the contract fields that take ids in the API.
NAME_COLUMNS = ("type", "customer", "customer_short_name", "owner", "state")
DOCUMENT_COLUMNS = ("document_name", "document_text")
PLAIN_FIELDS = tuple(
    f for f in ALL_FIELDS if f not in {"contract_type", "counterparty", "owner", "parent"}
)
COLUMNS = (*NAME_COLUMNS, *PLAIN_FIELDS, *DOCUMENT_COLUMNS)
_COLUMN_SET = frozenset(COLUMNS)
_PLAIN_SET = frozenset(PLAIN_FIELDS)
FORMATS = ("csv", "jsonl")


class ImportRefused(ValueError):
    """The whole import is refused (file too large, unreadable, wrong format)."""


@dataclass
class RowError:
    line: int
    errors: dict[str, str]

    def __str__(self) -> str:
        return "; ".join(
            msg if name == "__all__" else f"{name}: {msg}" for name, msg in self.errors.items()
        )


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    parties_created: int = 0
    documents: int = 0
    rows: int = 0


@dataclass(slots=True)
class _Prepared:
    line: int
    cleaned: dict[str, Any]
    tags: list[str]
    contract_type: ContractType
    party: Party | None
    party_name: str
    party_short_name: str
    owner: User
    state: str
    document: tuple[str, str] | None


# -- reading files -------------------------------------------------------------------------


def read_rows(
    fileobj: IO[bytes], fmt: str = "csv", *, max_bytes: int | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for each record of a CSV (header line first) or JSON Lines file;
    raises :class:`ImportRefused` for a file over ``max_bytes`` (default: the upload
    limit) or not in the format. Cells are text; nothing in them is evaluated."""
    if fmt not in FORMATS:
        raise ImportRefused(_("Unknown format; use csv or jsonl."))
    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    raw = fileobj.read(limit + 1)
    if len(raw) > limit:
        raise ImportRefused(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(_("The file is not UTF-8 text.")) from None
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                yield number, {"__error__": _("Not a JSON object.")}
                continue
            yield number, row if isinstance(row, dict) else {"__error__": _("Not a JSON object.")}
        return
    # The csv module refuses cells over 128 KiB by default; a document's text is longer.
    # (The limit is process-wide; raising it is harmless, the file's size is bounded.)
    if csv.field_size_limit() <= MAX_TEXT_CHARS:
        csv.field_size_limit(MAX_TEXT_CHARS + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error:
        raise ImportRefused(_("The file is not valid CSV.")) from None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, {"__error__": _("Not valid CSV.")}
            return
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield start, {"__error__": _("Expected %(n)d cells.") % {"n": len(header)}}
            continue
        yield start, dict(zip(header, cells, strict=True))


# -- checking rows ------------------------------------------------------------------------


class _Checker:
    """Checks rows for one actor, remembering the checks of names that repeat."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.may_create_party = actor.has_perm_code("party.create")
        self.may_set_state = actor.has_perm_code("admin")
        self.types: dict[str, ContractType | str] = {}
        self.parties: dict[str, Party | str | None] = {}
        self.owners: dict[str, User | str] = {}
        self.keys: dict[str, str] = {}  # customer name → normalized name

    def _clean_one(self, name: str, pk: int) -> Any:
        """The contract field ``name`` set to ``pk`` as ``clean_contract_data`` cleans it
        for this actor (the instance), or its error message."""
        try:
            return clean_contract_data(actor=self.actor, data={name: pk})[name]
        except ContractError as exc:
            return exc.errors[name]

    def _type(self, value: str) -> ContractType | str:
        if value not in self.types:
            found = (
                ContractType.objects.filter(code=value).first()
                or ContractType.objects.filter(name=value).first()
                if value
                else None
            )
            if found is None:
                self.types[value] = _("Choose one of the contract types.")
            else:
                self.types[value] = self._clean_one("contract_type", found.pk)
        return self.types[value]

    def _key(self, name: str) -> str:
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = normalize_company_name(name)
        return key

    def prefetch(self, rows: Iterable[dict[str, Any]]) -> None:
        """Look up the customers named in ``rows`` that are not known yet, with two
        queries (the first customer of each normalized name; which of them the actor may
        see) instead of two per name."""
        names: dict[str, str] = {}
        for row in rows:
            name = row.get("customer")
            name = "" if name is None else str(name).strip()
            if name and len(name) <= 200:
                key = self._key(name)
                if key not in self.parties:
                    names.setdefault(key, name)
        if not names:
            return
        first: dict[str, Party] = {}
        for party in Party.objects.filter(normalized_name__in=list(names)).order_by("-pk"):
            first[party.normalized_name] = party  # the lowest pk wins
        visible = set(
            Party.objects.visible_to(self.actor, "view")
            .filter(pk__in=[p.pk for p in first.values()])
            .values_list("pk", flat=True)
        )
        for key, name in names.items():
            found = first.get(key)
            if found is None:
                self.parties[key] = (
                    None
                    if self.may_create_party
                    else _("No such customer: %(name)s") % {"name": name}
                )
            else:
                shown = found if found.pk in visible else None
                self.parties[key] = counterparty_error(shown) or found

    def _party(self, name: str) -> Party | str | None:
        """The customer of this name; None when it is to be created; or an error."""
        key = self._key(name)
        if key not in self.parties:
            self.prefetch([{"customer": name}])
        return self.parties[key]

    def _owner(self, username: str) -> User | str:
        if username not in self.owners:
            found = User.objects.filter(username=username).first()
            if found is None:
                self.owners[username] = _("No such user: %(name)s") % {"name": username}
            else:
                self.owners[username] = self._clean_one("owner", found.pk)
        return self.owners[username]

    def check(self, line: int, row: dict[str, Any]) -> _Prepared | RowError:
        if "__error__" in row:
            return RowError(line, {"__all__": str(row["__error__"])})
        errors: dict[str, str] = {}
        if not _COLUMN_SET.issuperset(row):
            unknown = sorted(str(k) for k in row if k not in _COLUMN_SET)
            errors["__all__"] = _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}

        contract_type = self._type(_text(row, "type"))
        if isinstance(contract_type, str):
            errors["type"] = contract_type
        party_name = _text(row, "customer")
        party: Party | str | None = None
        if not party_name:
            errors["customer"] = _("This field is required.")
        elif len(party_name) > 200:
            errors["customer"] = _("At most %(n)d characters.") % {"n": 200}
        else:
            party = self._party(party_name)
            if isinstance(party, str):
                errors["customer"] = party
        owner: User | str = self.actor
        if owner_name := _text(row, "owner"):
            owner = self._owner(owner_name)
            if isinstance(owner, str):
                errors["owner"] = owner
        state = _text(row, "state") or ContractState.DRAFT
        if state not in STATE_VALUES:
            errors["state"] = _("Unknown state %(to)s.") % {"to": state[:40]}
        elif state != ContractState.DRAFT and not self.may_set_state:
            errors["state"] = _("Only administrators may import contracts that are not drafts.")
        plain = {k: v for k, v in row.items() if k in _PLAIN_SET and v not in (None, "")}
        plain["title"] = row.get("title") or ""
        cleaned: dict[str, Any] = {}
        try:
            cleaned = clean_contract_data(actor=self.actor, data=plain)
        except ContractError as exc:
            errors.update(exc.errors)
        document = None
        if _text(row, "document_text"):
            document = (_text(row, "document_name") or "document.txt", str(row["document_text"]))
            if len(document[1]) > MAX_TEXT_CHARS:
                errors["document_text"] = _("The document text is too long.")
        if errors:
            return RowError(line, errors)
        assert not isinstance(contract_type, str) and not isinstance(owner, str)
        assert not isinstance(party, str)
        tags = cleaned.pop("tags", [])
        return _Prepared(
            line,
            cleaned,
            tags,
            contract_type,
            party,
            party_name,
            _text(row, "customer_short_name"),
            owner,
            state,
            document,
        )


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


# -- writing ------------------------------------------------------------------------------


def _write_batch(
    checker: _Checker, batch: list[_Prepared], result: ImportResult, *, all_or_nothing: bool
) -> tuple[list[int], list[tuple[int, tuple[str, str]]]]:
    """Write one batch in the current transaction; returns the ids of the contracts
    created and the documents to attach to them."""
    actor = checker.actor
    rows: list[_Prepared] = []
    for p in batch:
        if p.party is None:
            key = normalize_company_name(p.party_name)
            known = checker.parties.get(key)
            if not isinstance(known, Party):
                try:
                    known = create_party(
                        actor=actor, data={"name": p.party_name, "short_name": p.party_short_name}
                    )
                except PartyError as exc:
                    error = RowError(p.line, {"customer": "; ".join(exc.errors.values())})
                    if all_or_nothing:
                        raise _Refused([error]) from None
                    result.errors.append(error)
                    continue
                result.parties_created += 1
                checker.parties[key] = known
            p.party = known
        rows.append(p)
    today = timezone.localdate()
    per_type: dict[int, list[int]] = {}
    for i, p in enumerate(rows):
        per_type.setdefault(p.contract_type.pk, []).append(i)
    numbers: list[str] = [""] * len(rows)
    for group in per_type.values():
        allocated = allocate_numbers(rows[group[0]].contract_type, on=today, count=len(group))
        for i, number in zip(group, allocated, strict=True):
            numbers[i] = number
    ids, snapshots = _insert(actor, rows, numbers)
    tag_names = sorted({t for p in rows for t in p.tags})
    if tag_names:
        tags = {t.name: t for t in Tag.objects.filter(name__in=tag_names)}
        missing = [Tag(name=n) for n in tag_names if n not in tags]
        if missing:
            Tag.objects.bulk_create(missing, ignore_conflicts=True)
            tags = {t.name: t for t in Tag.objects.filter(name__in=tag_names)}
        through = Contract.tags.through._meta
        insert_rows(
            connection,
            through.db_table,
            [through.get_field("contract").column, through.get_field("tag").column],
            [[pk, tags[name].pk] for pk, p in zip(ids, rows, strict=True) for name in p.tags],
        )
    documents: list[tuple[int, tuple[str, str]]] = []
    events: list[tuple[int, dict[str, Any]]] = []
    for pk, p, after in zip(ids, rows, snapshots, strict=True):
        events.append((pk, {"after": after, "via": "import"}))
        if p.document is not None:
            documents.append((pk, p.document))
    record_many(actor=actor, action="contract.created", model=Contract, items=events)
    result.created += ids
    return ids, documents


@dataclass(frozen=True)
class _Layout:
    """Where each field of a contract goes in a row of the INSERT, and how it is
    converted to the database value; worked out once, since through the ORM's compiler
    a bulk insert costs several times what the database does (``bench/import.py``)."""

    columns: tuple[str, ...]
    #: The row of a contract with every field at its default (callable ones: None).
    defaults: tuple[Any, ...]
    #: field name → (index, conversion or None when the value is taken as it is)
    fields: dict[str, tuple[int, Callable[[Any], Any] | None]]


@functools.cache
def _layout(vendor: str) -> _Layout:
    ops = connection.ops
    columns: list[str] = []
    defaults: list[Any] = []
    fields: dict[str, tuple[int, Callable[[Any], Any] | None]] = {}
    for f in Contract._meta.concrete_fields:
        if f.primary_key:
            continue
        convert: Callable[[Any], Any] | None = None
        if isinstance(f, models.DecimalField):
            convert = functools.partial(
                _adapt_decimal, ops.adapt_decimalfield_value, f.max_digits, f.decimal_places
            )
        elif isinstance(f, models.DateTimeField):
            convert = ops.adapt_datetimefield_value
        elif isinstance(f, models.DateField):
            convert = ops.adapt_datefield_value
        fields[f.name] = (len(columns), convert)
        columns.append(f.column)
        default = None if f.has_default() and callable(f.default) else f.get_default()
        defaults.append(default if convert is None or default is None else convert(default))
    return _Layout(tuple(columns), tuple(defaults), fields)


def _adapt_decimal(adapt: Callable[..., Any], digits: int, places: int, value: Any) -> Any:
    return adapt(value, digits, places)


def _insert(
    actor: User, rows: list[_Prepared], numbers: list[str]
) -> tuple[list[int], list[dict[str, Any]]]:
    """Insert the contracts of ``rows`` with their ``numbers`` (the other fields at
    their defaults); return their ids in order (matched on their unique numbers) and
    their values for the audit event (as ``_snapshot`` of ``contracts.actions`` writes
    them, and the state)."""
    layout = _layout(connection.vendor)
    fields = layout.fields
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    base = list(layout.defaults)
    for name, value in (("created_by", actor.pk), ("created_at", now), ("updated_at", now)):
        base[fields[name][0]] = value
    at = {
        name: fields[name][0]
        for name in ("owner", "department", "number", "contract_type", "counterparty", "state")
    }
    i_owner, i_department, i_number, i_type, i_party, i_state = at.values()
    params: list[list[Any]] = []
    snapshots: list[dict[str, Any]] = []
    for p, number in zip(rows, numbers, strict=True):
        row = base.copy()
        after: dict[str, Any] = {}
        for name, value in p.cleaned.items():
            i, convert = fields[name]
            if value is None:
                row[i] = after[name] = None
            else:
                row[i] = value if convert is None else convert(value)
                after[name] = snapshot_value(value)
        owner_id, type_id = p.owner.pk, p.contract_type.pk
        party_id = p.party.pk if p.party else None
        row[i_owner] = after["owner"] = owner_id
        row[i_department] = p.owner.department_id
        row[i_number] = after["number"] = number
        row[i_state] = after["state"] = p.state
        row[i_type] = after["contract_type"] = type_id
        row[i_party] = after["counterparty"] = party_id
        if p.tags:
            after["tags"] = p.tags
        params.append(row)
        snapshots.append(after)
    found = dict(
        insert_rows(
            connection,
            Contract._meta.db_table,
            layout.columns,
            params,
            returning=("number", "id"),
        )
    )
    return [found[number] for number in numbers], snapshots


class _Refused(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors


def _index(ids: list[int]) -> None:
    from qiyue.search.indexing import index_contracts

    index_contracts(ids)


def import_contracts(
    actor: User,
    rows: Iterable[tuple[int, dict[str, Any]] | dict[str, Any]],
    *,
    batch_size: int = DEFAULT_BATCH,
    all_or_nothing: bool = False,
    index: bool = True,
) -> ImportResult:
    """Import rows (dicts, or ``(line, dict)`` from :func:`read_rows`) as contracts of
    ``actor``; see the module's documentation. Raises :class:`NotAllowed` when the actor
    may not create contracts; bad rows are in ``result.errors`` with their line."""
    from qiyue.documents.bulk import TextDocument, attach_text_documents

    if not actor.has_perm_code("contract.create"):
        raise NotAllowed(_("You may not create contracts."))
    batch_size = max(1, batch_size)
    checker = _Checker(actor)
    result = ImportResult()

    def numbered() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, item in enumerate(rows, start=1):
            line, row = item if isinstance(item, tuple) else (number, item)
            yield line, row if isinstance(row, dict) else {}

    def prepared() -> Iterator[_Prepared]:
        source = numbered()
        while chunk := list(itertools.islice(source, batch_size)):
            checker.prefetch(row for _line, row in chunk)
            for line, row in chunk:
                result.rows += 1
                checked = checker.check(line, row)
                if isinstance(checked, RowError):
                    result.errors.append(checked)
                else:
                    yield checked

    def write(batch: list[_Prepared]) -> None:
        with transaction.atomic():
            ids, documents = _write_batch(checker, batch, result, all_or_nothing=all_or_nothing)
            if documents:
                attach_text_documents(
                    actor=actor,
                    items=[
                        TextDocument(contract_id=pk, name=name, text=text)
                        for pk, (name, text) in documents
                    ],
                    imported=True,
                )
                result.documents += len(documents)
            if index and ids:
                transaction.on_commit(lambda: _index(ids), robust=True)
            # As create_contract does: every new contract gets its compliance check.
            recheck_many_after_commit(ids)

    if all_or_nothing:
        everything = list(prepared())
        if result.errors:
            return result
        try:
            with transaction.atomic():
                for start in range(0, len(everything), batch_size):
                    write(everything[start : start + batch_size])
                _optimize_after(result, index=index)
        except _Refused as exc:
            result.created = []
            result.parties_created = result.documents = 0
            result.errors = exc.errors
        return result
    batch: list[_Prepared] = []
    for p in prepared():
        batch.append(p)
        if len(batch) >= batch_size:
            write(batch)
            batch = []
    if batch:
        write(batch)
    _optimize_after(result, index=index)
    return result


def _optimize_after(result: ImportResult, *, index: bool) -> None:
    if index and len(result.created) >= OPTIMIZE_AFTER:
        optimize_after_commit()
