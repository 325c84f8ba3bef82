"""Keeping the index in step with the contracts: one contract at a time (from jobs after
commit) and full rebuilds into a shadow index that is swapped in only when complete.

Everything here takes ids and is idempotent: indexing a contract twice leaves the same
entry; a rebuild interrupted anywhere resumes where its progress row says."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from django.db import connection, transaction

from qiyue.contracts.models import Contract, Tag
from qiyue.documents.models import Blob, Document, DocumentVersion
from qiyue.documents.queries import version_pages
from qiyue.lib.bulksql import in_ids
from qiyue.parties.models import Party
from qiyue.search.backends import get_backend
from qiyue.search.backends.base import LIVE, NEXT, WRITE_CHUNK, IndexDocument
from qiyue.search.models import IndexRebuild

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 200


def field_texts(
    *, number: str, title: str, party: str, short_name: str, tags: list[str], notes: str
) -> list[tuple[str, str]]:
    """The searchable fields of a contract, ``(name, text)``, in display order."""
    out = [
        ("number", number),
        ("title", title),
        ("counterparty", party),
        ("counterparty", short_name),
        ("tags", " ".join(tags)),
        ("notes", notes),
    ]
    return [(name, text) for name, text in out if text]


class ContractText(NamedTuple):
    """What a search reads of a contract besides its documents."""

    number: str
    title: str
    state: str
    counterparty: str
    #: :func:`field_texts`: what the index holds and field snippets show.
    fields: list[tuple[str, str]]


@functools.cache
def _texts_sql(vendor: str) -> str:
    """The statement behind :func:`contract_texts` (``IN (%s)`` for the id list)."""
    q = connection.ops.quote_name
    through = Contract.tags.through._meta
    tag_field = through.get_field("tag")
    contract_field = through.get_field("contract")
    tag, contract = q(tag_field.column), q(contract_field.column)
    c, p, ct, t = (q(m._meta.db_table) for m in (Contract, Party, Contract.tags.through, Tag))
    return (
        "SELECT c.id, c.number, c.title, c.state, c.notes, p.name, p.short_name, t.name "  # noqa: S608
        f"FROM {c} c LEFT JOIN {p} p ON p.id = c.{q('counterparty_id')} "
        f"LEFT JOIN {ct} ct ON ct.{contract} = c.id LEFT JOIN {t} t ON t.id = ct.{tag} "
        "WHERE c.id IN (%s) ORDER BY c.id, t.name"
    )


def contract_texts(ids: Iterable[int]) -> dict[int, ContractText]:
    """The contracts that exist among ``ids``, in id order, as :class:`ContractText`.
    One plain statement (ids are integers, names come from the models): through the
    ORM, with its prefetch of the tags, loading the contracts to index cost as much as
    analysing their text, and two queries more than the search statement of a page of
    hits (``bench/import.py``, ``bench/search.py``)."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    condition, params = in_ids(connection, ids)
    sql = _texts_sql(connection.vendor).replace("IN (%s)", condition, 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    first: dict[int, tuple[Any, ...]] = {}
    tags: dict[int, list[str]] = {}
    for row in rows:  # a row per tag, in tag order
        first.setdefault(row[0], row)
        if row[7] is not None:
            tags.setdefault(row[0], []).append(row[7])
    out: dict[int, ContractText] = {}
    for pk, (_pk, number, title, state, notes, party, short_name, _tag) in first.items():
        fields = field_texts(
            number=number,
            title=title,
            party=party or "",
            short_name=short_name or "",
            tags=tags.get(pk, []),
            notes=notes,
        )
        out[pk] = ContractText(number, title, state, party or "", fields)
    return out


def _in_model_order(model: Any, names: set[str]) -> tuple[str, ...]:
    """Attribute names in the order of the model's fields, as ``Model.from_db`` wants."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


_VERSION_FIELDS = _in_model_order(DocumentVersion, {"id", "number", "document_id", "text_blob_id"})
_DOCUMENT_FIELDS = _in_model_order(Document, {"id", "contract_id", "title"})
_BLOB_FIELDS = _in_model_order(
    Blob, {"id", "sha256", "size", "storage_name", "key_id", "wrapped_key"}
)


@functools.cache
def _versions_sql(vendor: str) -> str:
    """The statement behind :func:`latest_versions` (``IN (%s)`` for the id list)."""
    q = connection.ops.quote_name

    def cols(model: Any, alias: str, names: tuple[str, ...]) -> list[str]:
        return [f"{alias}.{q(model._meta.get_field(n).column)}" for n in names]

    select = [
        *cols(DocumentVersion, "v", _VERSION_FIELDS),
        *cols(Document, "d", _DOCUMENT_FIELDS),
        *cols(Blob, "b", _BLOB_FIELDS),
    ]
    v, d, b = (q(m._meta.db_table) for m in (DocumentVersion, Document, Blob))
    return (
        f"SELECT {', '.join(select)} FROM {v} v "  # noqa: S608
        f"JOIN {d} d ON d.id = v.{q('document_id')} "
        f"LEFT JOIN {b} b ON b.id = v.{q('text_blob_id')} "
        f"WHERE d.{q('contract_id')} IN (%s) "
        f"ORDER BY d.{q('contract_id')}, v.{q('document_id')}, v.{q('number')} DESC"
    )


def latest_versions(contract_ids: Iterable[int]) -> dict[int, list[DocumentVersion]]:
    """The latest version of each document of these contracts, per contract.

    The versions carry their document and text blob, with only the fields that indexing
    and snippets read (others load when asked for, like ``.only()``). One plain
    statement: through the ORM's compiler this cost more than the search statement of a
    selective query, on every page of results (``bench/search.py``)."""
    alias = connection.alias
    nv, nd = len(_VERSION_FIELDS), len(_DOCUMENT_FIELDS)
    out: dict[int, list[DocumentVersion]] = {}
    for row, blob_row in _latest_rows(contract_ids):
        version = DocumentVersion.from_db(alias, _VERSION_FIELDS, row[:nv])
        document = Document.from_db(alias, _DOCUMENT_FIELDS, row[nv : nv + nd])
        version.document = document
        version.text_blob = _blob(blob_row)
        out.setdefault(document.contract_id, []).append(version)
    return out


def _blob(blob_row: tuple[Any, ...] | None) -> Blob | None:
    return None if blob_row is None else Blob.from_db(connection.alias, _BLOB_FIELDS, blob_row)


def _latest_rows(
    contract_ids: Iterable[int],
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """The rows of :func:`_versions_sql` for these contracts, the latest version of each
    document only, with its text blob's columns (None before extraction). Columns are
    selected in the order of the field tuples above (the models' field order)."""
    ids = [int(i) for i in contract_ids]
    if not ids:
        return
    condition, params = in_ids(connection, ids)
    sql = _versions_sql(connection.vendor).replace("IN (%s)", condition, 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    nvd = len(_VERSION_FIELDS) + len(_DOCUMENT_FIELDS)
    v_doc = _VERSION_FIELDS.index("document_id")
    seen: set[int] = set()
    for row in rows:
        if row[v_doc] in seen:
            continue
        seen.add(row[v_doc])
        blob_row = row[nvd:]
        yield row, (blob_row if blob_row[0] is not None else None)


class LatestText(NamedTuple):
    """The latest version of a document, with what a snippet shows of it and its text
    blob's SHA-256 (None before extraction): lighter than model instances for a page of
    hits. The blob itself is made only when its text is not in the page-text cache."""

    version_id: int
    version_number: int
    document_id: int
    document_title: str
    contract_id: int
    text_sha256: str | None
    blob_row: tuple[Any, ...] | None

    def load_text_blob(self) -> Blob | None:
        return _blob(self.blob_row)


def latest_texts(contract_ids: Iterable[int]) -> dict[int, list[LatestText]]:
    """As :func:`latest_versions` (same statement, same order), as :class:`LatestText`."""
    nv = len(_VERSION_FIELDS)
    v_id, v_doc, v_number = (_VERSION_FIELDS.index(n) for n in ("id", "document_id", "number"))
    d_contract, d_title = (nv + _DOCUMENT_FIELDS.index(n) for n in ("contract_id", "title"))
    b_sha = _BLOB_FIELDS.index("sha256")
    out: dict[int, list[LatestText]] = {}
    for row, blob_row in _latest_rows(contract_ids):
        sha256 = None if blob_row is None else blob_row[b_sha]
        text = LatestText(
            row[v_id], row[v_number], row[v_doc], row[d_title], row[d_contract], sha256, blob_row
        )
        out.setdefault(text.contract_id, []).append(text)
    return out


def build_documents(ids: list[int]) -> tuple[list[IndexDocument], set[int]]:
    """The index entries of the contracts that exist among ``ids``, and the missing ids."""
    contracts = contract_texts(ids)
    versions = latest_versions(contracts)
    docs: list[IndexDocument] = []
    for pk, contract in contracts.items():
        texts: list[str] = []
        for version in versions.get(pk, []):
            try:
                pages = version_pages(version) or []
            except Exception:  # a blob we cannot read must not stop indexing the rest
                log.exception("search: cannot read the text of document version %s", version.pk)
                pages = []
            texts.append("\n".join(str(p.get("text", "")) for p in pages))
        fields = "\n".join(text for _name, text in contract.fields)
        docs.append(IndexDocument(pk, fields=fields, documents=texts))
    missing = set(ids) - set(contracts)
    return docs, missing


def _rebuild_running() -> bool:
    return IndexRebuild.objects.exists()


def index_contracts(ids: list[int]) -> None:
    """(Re)index these contracts in the live index, and in the shadow one while a
    rebuild runs; contracts that no longer exist are removed."""
    if not ids:
        return
    backend = get_backend()
    with transaction.atomic():
        generations = [LIVE, NEXT] if _rebuild_running() else [LIVE]
        for start in range(0, len(ids), WRITE_CHUNK):
            # Read inside the transaction that writes: a concurrent update's own job
            # then writes after this one, never before it with older data.
            docs, missing = build_documents(ids[start : start + WRITE_CHUNK])
            for generation in generations:
                backend.write(docs, generation=generation)
                for contract_id in missing:
                    backend.remove(contract_id, generation=generation)


def index_contract(contract_id: int) -> None:
    index_contracts([contract_id])


def remove_contract(contract_id: int) -> None:
    backend = get_backend()
    with transaction.atomic():
        for generation in [LIVE, NEXT] if _rebuild_running() else [LIVE]:
            backend.remove(contract_id, generation=generation)


def reindex_folded(chars: frozenset[str], *, chunk: int = DEFAULT_CHUNK) -> int:
    """Index anew the contracts whose entries hold any of ``chars``: what a change of
    :func:`analysis.fold` that maps those characters (migration ``search 0003``: traditional
    Chinese to simplified) needs; the rest of the index folds as before. From their
    source, like every other write, into a running rebuild's tables too. Returns how many."""
    backend = get_backend()
    ids = sorted(
        set(backend.ids_with_any(chars))
        | (set(backend.ids_with_any(chars, generation=NEXT)) if _rebuild_running() else set())
    )
    for start in range(0, len(ids), chunk):
        index_contracts(ids[start : start + chunk])
    return len(ids)


def rebuild(
    *,
    chunk: int = DEFAULT_CHUNK,
    restart: bool = False,
    progress: Callable[[int, int], Any] | None = None,
    stop_after: int | None = None,
) -> bool:
    """Rebuild the whole index into the shadow tables, ``chunk`` contracts per
    transaction, then swap it in. Resumes an interrupted rebuild unless ``restart``.

    Returns True when the new index was swapped in; False when it stopped early after
    ``stop_after`` chunks (for tests and for spreading the work). The live index keeps
    answering searches until the swap."""
    backend = get_backend()
    with transaction.atomic():
        state = IndexRebuild.objects.first()
        if state is None or restart:
            IndexRebuild.objects.all().delete()
            backend.drop_tables(NEXT)
            backend.create_tables(NEXT)
            state = IndexRebuild.objects.create()
    rounds = 0
    while True:
        ids = list(
            Contract.objects.filter(pk__gt=state.last_contract_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            break
        with transaction.atomic():
            docs, _missing = build_documents(ids)
            for start in range(0, len(docs), WRITE_CHUNK):
                backend.write(docs[start : start + WRITE_CHUNK], generation=NEXT)
            state.last_contract_id = ids[-1]
            state.done += len(docs)
            IndexRebuild.objects.filter(pk=state.pk).update(
                last_contract_id=state.last_contract_id, done=state.done
            )
        if progress is not None:
            progress(state.done, state.last_contract_id)
        rounds += 1
        if stop_after is not None and rounds >= stop_after:
            return False
    # Written chunk by chunk, the new index is in many pieces: merged before it serves.
    backend.optimize(generation=NEXT)
    with transaction.atomic():
        backend.swap()
        IndexRebuild.objects.all().delete()
    return True
